"""The CloudLab repository: where it comes from, its services, instances and vault file."""
