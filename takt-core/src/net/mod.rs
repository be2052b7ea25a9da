//! The virtual network (sans-I/O). Being written.
