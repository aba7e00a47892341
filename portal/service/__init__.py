"""After the sale: service requests and complaints with promised response times."""
