//! Semantic checks (Wireshark's `semcheck.c`): an expression's type, its
//! literals read as the type of what they meet, and the operators and
//! functions each type takes.

use super::literal::{self, Raw, Ty};
use super::types::{Arith, Expr, Func, Range};
use super::{FilterError, err};
use crate::packet::fields::Field;

/// An expression as written, before its literals are read by type.
pub(super) enum P {
    Field(&'static Field, Option<Vec<Range>>),
    Lit(Raw),
    Slice(Box<At>, Vec<Range>),
    Call(Func, Vec<At>),
    Arith(Arith, Box<At>, Box<At>),
    Neg(Box<At>),
}

/// A [`P`] with its column and the depth of its tree.
pub(super) struct At {
    pub(super) p: P,
    pub(super) column: usize,
    pub(super) depth: usize,
}

/// `a` with its literals read, and its type; `want` is the type (and
/// name) of what a constant here is compared with.
pub(super) fn build(a: At, want: Option<(Ty, &str)>) -> Result<(Expr, Ty), FilterError> {
    let column = a.column;
    let constant = |raw: &Raw, neg: bool| -> Result<(Expr, Ty), FilterError> {
        let Some((ty, what)) = want else {
            return Err(err(
                column,
                "a constant needs a field to give it a type (constant expressions are refused)",
            ));
        };
        let lit = literal::read(raw, ty, what, neg).map_err(|m| err(column, m))?;
        Ok((Expr::Const(lit), ty))
    };
    match a.p {
        P::Field(f, layers) => Ok((Expr::Field(f, layers.map(Vec::into_boxed_slice)), Ty::of(f))),
        P::Lit(raw) => constant(&raw, false),
        P::Neg(x) => {
            if let P::Lit(raw) = &x.p {
                return constant(raw, true);
            }
            let (e, t) = build(*x, want)?;
            if !t.numeric() {
                return Err(err(
                    column,
                    format!("{} is {t}: it has no minus", describe(&e)),
                ));
            }
            Ok((Expr::Neg(Box::new(e)), negated(t)))
        }
        P::Slice(x, ranges) => {
            let inner = x.column;
            if matches!(x.p, P::Lit(_)) {
                return Err(err(
                    inner,
                    "a slice needs a field (constant expressions are refused)",
                ));
            }
            let (e, t) = build(*x, None)?;
            let t = match t {
                Ty::Bytes | Ty::Mac => Ty::Bytes,
                Ty::Str => Ty::Str,
                other => {
                    return Err(err(
                        inner,
                        format!(
                            "{} is {other}: a slice needs bytes, text or an Ethernet address",
                            describe(&e)
                        ),
                    ));
                }
            };
            Ok((Expr::Slice(Box::new(e), ranges.into_boxed_slice()), t))
        }
        P::Call(func, args) => call(func, args, column, want),
        P::Arith(op, x, y) => {
            let (x_const, y_const) = (constant_p(&x.p), constant_p(&y.p));
            if x_const && y_const {
                return Err(err(
                    column,
                    "arithmetic on constants alone is refused (constant expression)",
                ));
            }
            let (ex, tx, ey, ty) = if x_const {
                let lead = name(Some(&y.p));
                let (ey, ty) = build(*y, None)?;
                let (ex, tx) = build(*x, Some((ty, &lead)))?;
                (ex, tx, ey, ty)
            } else {
                let lead = name(Some(&x.p));
                let (ex, tx) = build(*x, None)?;
                let (ey, ty) = build(*y, Some((tx, &lead)))?;
                (ex, tx, ey, ty)
            };
            let ok = if op == Arith::BitAnd {
                (tx.numeric() && ty.numeric()) || (tx == Ty::Bytes && ty == Ty::Bytes)
            } else {
                tx.numeric() && ty.numeric()
            };
            if !ok {
                return Err(err(
                    column,
                    format!(
                        "{} ({tx}) and {} ({ty}) take no arithmetic",
                        describe(&ex),
                        describe(&ey)
                    ),
                ));
            }
            let t = match tx {
                Ty::Status => Ty::Int { min: 0, max: 255 },
                t => t,
            };
            Ok((Expr::Arith(op, Box::new(ex), Box::new(ey)), t))
        }
    }
}

fn call(
    func: Func,
    args: Vec<At>,
    column: usize,
    want: Option<(Ty, &str)>,
) -> Result<(Expr, Ty), FilterError> {
    let fname = func_name(func);
    let one = matches!(
        func,
        Func::Len | Func::Count | Func::Lower | Func::Upper | Func::String | Func::Abs
    );
    if (one && args.len() != 1) || args.is_empty() {
        return Err(err(
            column,
            format!(
                "{fname}() takes {}",
                if one {
                    "one argument"
                } else {
                    "one or more arguments"
                }
            ),
        ));
    }
    // Wireshark 4.0: "Only fields can be used as parameter for len()".
    if matches!(func, Func::Count | Func::Len) && !matches!(args[0].p, P::Field(..)) {
        return Err(err(args[0].column, format!("{fname}() takes a field")));
    }
    let mut lead: Option<(Ty, String)> = None;
    let mut built = Vec::with_capacity(args.len());
    for a in args {
        let a_column = a.column;
        if matches!(a.p, P::Lit(_)) && lead.is_none() && !matches!(func, Func::Max | Func::Min) {
            return Err(err(
                a_column,
                format!("{fname}() takes a field, not a constant"),
            ));
        }
        let arg_name = name(Some(&a.p));
        let w = lead.as_ref().map(|(t, n)| (*t, n.as_str())).or(want);
        let (e, t) = build(a, w)?;
        let fits = match func {
            Func::Len => matches!(
                t,
                Ty::Bytes | Ty::Str | Ty::Mac | Ty::Ipv4 | Ty::Ipv6 | Ty::Int { .. }
            ),
            Func::Count => true,
            Func::Lower | Func::Upper => t == Ty::Str,
            Func::String => matches!(t, Ty::Int { .. } | Ty::Ipv4 | Ty::Ipv6 | Ty::Mac),
            Func::Max | Func::Min | Func::Abs => {
                t.numeric() && lead.as_ref().is_none_or(|(l, _)| l.compatible(t))
            }
        };
        if !fits {
            return Err(err(
                a_column,
                format!("{fname}() does not take {} ({t})", describe(&e)),
            ));
        }
        if lead.is_none() {
            lead = Some((t, arg_name));
        }
        built.push(e);
    }
    let first = lead.map_or(Ty::Int { min: 0, max: 0 }, |(t, _)| t);
    let ty = match func {
        Func::Len | Func::Count => Ty::Int {
            min: 0,
            max: i64::from(u32::MAX),
        },
        Func::Lower | Func::Upper | Func::String => Ty::Str,
        Func::Max | Func::Min => first,
        Func::Abs => match negated(first) {
            Ty::Int { max, .. } => Ty::Int {
                min: 0,
                max: max.max(match first {
                    Ty::Int { max, .. } => max,
                    _ => 255,
                }),
            },
            t => t,
        },
    };
    Ok((Expr::Call(func, built), ty))
}

/// True for a literal, or arithmetic on literals alone.
pub(super) fn constant_p(p: &P) -> bool {
    match p {
        P::Lit(_) => true,
        P::Neg(x) => constant_p(&x.p),
        P::Arith(_, x, y) => constant_p(&x.p) && constant_p(&y.p),
        _ => false,
    }
}

/// The type of `-x` for `x` of type `t`.
pub(super) fn negated(t: Ty) -> Ty {
    match t {
        Ty::Int { min, max } => Ty::Int {
            min: max.saturating_neg(),
            max: min.saturating_neg(),
        },
        Ty::Status => Ty::Int { min: -255, max: 0 },
        t => t,
    }
}

pub(super) fn func_name(f: Func) -> &'static str {
    match f {
        Func::Len => "len",
        Func::Count => "count",
        Func::Lower => "lower",
        Func::Upper => "upper",
        Func::String => "string",
        Func::Max => "max",
        Func::Min => "min",
        Func::Abs => "abs",
    }
}

/// How a message names an expression: the field's name, or what it is.
pub(super) fn name(p: Option<&P>) -> String {
    match p {
        Some(P::Field(f, _)) => f.name.to_string(),
        Some(P::Slice(..)) => "the slice".into(),
        Some(P::Call(f, _)) => format!("{}()", func_name(*f)),
        Some(P::Arith(_, x, y)) if !constant_p(&x.p) => name(Some(&x.p)),
        Some(P::Arith(_, _, y)) => name(Some(&y.p)),
        Some(P::Neg(x)) => name(Some(&x.p)),
        _ => "the constant".into(),
    }
}

pub(super) fn describe(e: &Expr) -> String {
    match e {
        Expr::Field(f, _) => f.name.to_string(),
        Expr::Const(_) => "the constant".into(),
        Expr::Slice(..) => "the slice".into(),
        Expr::Call(f, _) => format!("{}()", func_name(*f)),
        Expr::Arith(..) | Expr::Neg(..) => "the arithmetic".into(),
    }
}
