"""HTTP: clerks submit bundles, departments decide, the public verifies a scanned QR."""
