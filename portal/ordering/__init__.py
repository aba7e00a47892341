"""The terminal: quick order, cart, checkout, approval, order history."""
