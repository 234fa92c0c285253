"""The terminal app: screens and widgets over `evaltui.core`; no domain logic lives here."""
