//! Fixture: iteration order of a `HashMap` with the default (randomly
//! seeded) hasher, and a `RandomState` hash of a fixed string.
//!
//! Transcript: `virt order <keys>`, `virt random_state <u64>`, `len 20`,
//! `sum 190`.

// The whole point of this fixture is the randomized std hasher, which the
// workspace's clippy.toml bans for engine code.
#![allow(clippy::disallowed_types)]

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

fn main() {
    let mut map: HashMap<String, u32> = HashMap::new();
    for i in 0..20u32 {
        map.insert(format!("key{i:02}"), i);
    }
    let order: Vec<&str> = map.keys().map(String::as_str).collect();
    println!("virt order {}", order.join(" "));

    let mut hasher = RandomState::new().build_hasher();
    hasher.write(b"takt");
    println!("virt random_state {}", hasher.finish());

    println!("len {}", map.len());
    println!("sum {}", map.values().sum::<u32>());
    let mut sorted: Vec<&str> = order.clone();
    sorted.sort_unstable();
    println!(
        "sorted_first {} sorted_last {}",
        sorted[0],
        sorted[sorted.len() - 1]
    );
}
