"""Services: one use case each; they own the transaction."""
