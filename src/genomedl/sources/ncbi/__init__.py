"""NCBI E-utilities: a polite client (API key, rate limit across processes, retries), a record cache and the searches
by accession, gene and query."""
