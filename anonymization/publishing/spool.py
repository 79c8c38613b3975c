"""How much of a file being copied stays in memory before it spills to a temporary file."""
SPOOL_BYTES = 16 * 2**20
