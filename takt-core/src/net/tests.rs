//! Unit tests of the virtual network.
