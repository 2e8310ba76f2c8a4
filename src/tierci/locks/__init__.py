"""Lock files: compiling ``requirements/*.in`` into hashed locks (``compile``) and
reading them strictly (``lockfile``)."""
