//! The dashboard's pages: server-rendered HTML, no script, one stylesheet (`style.css`, served
//! by the binary), charts as inline SVG.

mod chart;
mod gap;
mod gaps;
mod inventory;
mod layout;
mod overview;
mod owners;
mod runs;

pub(crate) use gap::gap;
pub(crate) use gaps::gaps;
pub(crate) use inventory::inventory;
pub(crate) use layout::{icon, layout, not_found, stylesheet};
pub(crate) use overview::overview;
pub(crate) use owners::owners;
pub(crate) use runs::{diff, runs};
