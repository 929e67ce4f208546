//! Is a directive allowed where it stands, with that many arguments? nginx refuses the
//! configuration otherwise; the messages are nginx's (and crossplane's, for `--dump`).

use super::directives::DIRECTIVES;
use super::model::Fnv;
use super::parser::Directive;
use std::collections::HashMap;
use std::sync::OnceLock;

const BLOCK: u32 = 0x0000_0100;
const FLAG: u32 = 0x0000_0200;
const ANY: u32 = 0x0000_0400;
const ONE_MORE: u32 = 0x0000_0800;
const TWO_MORE: u32 = 0x0000_1000;

/// The mask of a context such as `["http", "server"]`; `None` for contexts nginx's table does
/// not describe (then nothing is checked, as crossplane does).
pub fn context_mask(ctx: &[&str]) -> Option<u32> {
    Some(match ctx {
        [] => 0x0004_0000,
        ["events"] => 0x0008_0000,
        ["mail"] => 0x0010_0000,
        ["mail", "server"] => 0x0020_0000,
        ["stream"] => 0x0040_0000,
        ["stream", "server"] => 0x0080_0000,
        ["stream", "upstream"] => 0x0100_0000,
        ["http"] => 0x0200_0000,
        ["http", "server"] => 0x0400_0000,
        ["http", "location"] => 0x0800_0000,
        ["http", "upstream"] => 0x1000_0000,
        ["http", "server", "if"] => 0x2000_0000,
        ["http", "location", "if"] => 0x4000_0000,
        ["http", "location", "limit_except"] => 0x8000_0000,
        _ => return None,
    })
}

/// The directive table as a hash map, built once (a lookup per directive parsed).
fn table() -> &'static HashMap<&'static str, &'static [u32], Fnv> {
    static TABLE: OnceLock<HashMap<&'static str, &'static [u32], Fnv>> = OnceLock::new();
    TABLE.get_or_init(|| DIRECTIVES.iter().copied().collect())
}

/// The table's own copy of a directive name and its masks, if nginx knows it.
pub fn lookup(name: &str) -> Option<(&'static str, &'static [u32])> {
    table().get_key_value(name).map(|(k, m)| (*k, *m))
}

/// The context inside a block: locations nest but stay "location" for the table.
pub fn enter_block_ctx<'a>(directive: &'a str, ctx: &[&'a str]) -> Vec<&'a str> {
    if ctx.first().is_some_and(|&c| c == "http") && directive == "location" {
        return vec!["http", "location"];
    }
    let mut inner = Vec::with_capacity(ctx.len() + 1);
    inner.extend_from_slice(ctx);
    inner.push(directive);
    inner
}

/// `Err(reason)` when nginx would refuse the directive; `term` is `;`, `{` or `}`.
/// `masks` is the directive's entry from [`lookup`] (`None`: nginx does not know it);
/// `ctx_mask` is [`context_mask`] of the block the directive is in.
pub fn analyze(
    d: &Directive,
    masks: Option<&[u32]>,
    term: &str,
    ctx_mask: Option<u32>,
) -> Result<(), String> {
    let Some(ctx_mask) = ctx_mask else {
        return Ok(());
    };
    let Some(all) = masks else {
        return Ok(());
    };
    let masks = || all.iter().copied().filter(|m| m & ctx_mask != 0);
    if masks().next().is_none() {
        return Err(format!("\"{}\" directive is not allowed here", d.name));
    }
    let n = d.args.len();
    let flag_ok = |a: &str| matches!(a.to_ascii_lowercase().as_str(), "on" | "off");
    let mut reason = String::new();
    for mask in all.iter().rev().copied().filter(|m| m & ctx_mask != 0) {
        if mask & BLOCK != 0 && term != "{" {
            reason = format!("directive \"{}\" has no opening \"{{\"", d.name);
            continue;
        }
        if mask & BLOCK == 0 && term != ";" {
            reason = format!("directive \"{}\" is not terminated by \";\"", d.name);
            continue;
        }
        if (n <= 7 && (mask >> n) & 1 == 1)
            || (mask & FLAG != 0 && n == 1 && flag_ok(&d.args[0].text))
            || mask & ANY != 0
            || (mask & ONE_MORE != 0 && n >= 1)
            || (mask & TWO_MORE != 0 && n >= 2)
        {
            return Ok(());
        } else if mask & FLAG != 0 && n == 1 {
            reason = format!(
                "invalid value \"{}\" in \"{}\" directive, it must be \"on\" or \"off\"",
                d.args[0].text, d.name
            );
        } else {
            reason = format!("invalid number of arguments in \"{}\" directive", d.name);
        }
    }
    Err(reason)
}
