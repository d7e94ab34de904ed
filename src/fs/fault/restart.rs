//! Restarting after a crash: the file system a machine finds after a kill or a power
//! loss ([`CrashMode`]), torn writes drawn from a seed.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::state::{rename_under, NameOp, Node, State};
use super::{CrashMode, FaultFs};

/// A tiny deterministic generator (xorshift64*), so a crash replays from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

impl FaultFs {
    /// The file system as a machine finds it after the crash: durable state per
    /// `mode`, no locks held, no faults. This file system stays crashed.
    pub fn restart(&self, mode: CrashMode) -> FaultFs {
        let mut s = self.state.lock();
        s.crashed = true;
        let mut rng = Rng(match mode {
            CrashMode::PowerLossTorn(seed) => seed.wrapping_mul(2).wrapping_add(1),
            _ => 1,
        });
        let names = match mode {
            CrashMode::Kill => s.names.clone(),
            CrashMode::PowerLoss => s.durable.clone(),
            CrashMode::PowerLossTorn(_) => {
                let mut names = s.durable.clone();
                let keep = rng.below(s.pending.len() + 1);
                for op in &s.pending[..keep] {
                    match op {
                        NameOp::Link(p, id) => drop(names.insert(p.clone(), *id)),
                        NameOp::Unlink(p) => drop(names.remove(p)),
                        NameOp::RenameDir(from, to) => rename_under(&mut names, from, to),
                    };
                }
                names
            }
        };
        // Directories renamed by a step the crash lost are back under their old names.
        let kept = match mode {
            CrashMode::Kill => s.pending.len(),
            _ => 0,
        };
        let mut dirs = s.dirs.clone();
        for op in s.pending[kept..].iter().rev() {
            if let NameOp::RenameDir(from, to) = op {
                if !names.keys().any(|p| p.starts_with(to)) {
                    dirs.remove(to);
                    dirs.insert(from.clone());
                }
            }
        }
        let mut next = State {
            dirs,
            ..State::default()
        };
        let mut ids = BTreeMap::new();
        for (path, id) in names {
            let new_id = *ids.entry(id).or_insert_with(|| {
                let node = &s.nodes[id];
                let data = match mode {
                    CrashMode::Kill => node.data.clone(),
                    CrashMode::PowerLoss => durable_data(node),
                    CrashMode::PowerLossTorn(_) => torn_data(node, &mut rng),
                };
                next.nodes.push(Node {
                    synced: data.len(),
                    data,
                    cut_from: None,
                    overwritten: false,
                });
                next.nodes.len() - 1
            });
            next.names.insert(path, new_id);
        }
        next.durable = next.names.clone();
        FaultFs {
            state: Arc::new(Mutex::new(next)),
        }
    }
}

fn durable_data(node: &Node) -> Vec<u8> {
    match &node.cut_from {
        Some(old) => old.clone(),
        None => node.data[..node.synced].to_vec(),
    }
}

fn torn_data(node: &Node, rng: &mut Rng) -> Vec<u8> {
    let extra = node.data.len() - node.synced;
    let keep = node.synced + rng.below(extra + 1);
    let mut data = node.data[..keep].to_vec();
    if let Some(old) = &node.cut_from {
        if !node.overwritten || rng.below(3) == 0 {
            // The cut, or the contents from before it.
            return if rng.below(2) == 0 {
                old.clone()
            } else {
                node.data.clone()
            };
        }
        // A prefix of what was written since the sync, over what was there before.
        data.extend_from_slice(old.get(keep..).unwrap_or_default());
        return damage_tail(data, keep, node.synced, rng);
    }
    damage_tail(data, keep, node.synced, rng)
}

/// Now and then, the last sector or so of what reached the disk (`data[synced..keep]`)
/// is not what was written.
fn damage_tail(mut data: Vec<u8>, keep: usize, synced: usize, rng: &mut Rng) -> Vec<u8> {
    if keep > synced && rng.below(3) == 0 {
        let bad = 1 + rng.below((keep - synced).min(512));
        let zeros = rng.below(2) == 0;
        for b in &mut data[keep - bad..] {
            *b = if zeros { 0 } else { rng.below(256) as u8 };
        }
    }
    data
}
