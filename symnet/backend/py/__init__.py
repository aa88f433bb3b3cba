"""The reference backend: runs each node's ``Op.perform`` in order."""
