"""`graphassoc drift`: placeholder replaced below."""
