//! Flow stage: keys packets into flows across tunnel layers and keeps per-flow state
//! within a memory bound. Time is capture time.

mod key;
mod table;

pub use key::{Direction, Endpoints, FlowKey, TunnelKey};
pub use table::{
    AttrSet, EndReason, FirstPacket, Flow, FlowTable, Limits, MAX_ATTRS, Origin, SweepClock,
    TableStats,
};
