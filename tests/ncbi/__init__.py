"""Tests of the NCBI E-utilities fetch source, against a loopback fake server."""
