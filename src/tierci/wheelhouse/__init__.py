"""The heavy tier's wheelhouse: what it must hold (``model``), how it is filled
(``build``), installed from offline (``install``) and carried in caches (``archive``)."""
