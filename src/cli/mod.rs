//! The binary's modules: the flags ([`args`], [`parse`]), the edge
//! ([`output`]) and one module per command, each arguments → library call
//! → words.

pub mod annotate;
pub mod args;
pub mod draw;
pub mod hints;
pub mod output;
pub mod parse;
pub mod pictures;
pub mod signals;
pub mod walk;

pub mod build;
pub mod capture;
pub mod check;
pub mod check_expect;
pub mod compare;
pub mod completions;
pub mod diff;
pub mod doctor;
pub mod exec;
pub mod expect;
pub mod flow;
pub mod listen;
pub mod man;
pub mod run;
pub mod send;
