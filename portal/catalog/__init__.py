"""The catalog: products, stock, contract prices and what a buyer can expect."""
