"""What a project ships: sdist and wheel built and checked once (``build``), verified
installed outside the tree (``verify``), native wheels (``native``), releases (``release``)."""
