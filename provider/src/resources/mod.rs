//! Managed resources, one file each. The web tier, databases and caches arrive in later issues.
