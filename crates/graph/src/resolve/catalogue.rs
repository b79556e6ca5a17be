//! The catalogues paths are matched against: Graph's documented workbook request shapes (`surface.tsv`) and msgraph-sdk's URL templates (`sdk_url_templates.tsv`).

use super::*;

/// One documented workbook operation: method, path under `/workbook` and its name.
pub(super) struct Template {
    method: &'static str,
    parts: Vec<&'static str>,
    name: &'static str,
}

pub(super) static SURFACE: LazyLock<Vec<Template>> = LazyLock::new(|| {
    include_str!("../surface.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            let method = f.next()?;
            let path = f.next()?;
            let name = f.next()?;
            Some(Template { method, parts: path.split('/').filter(|p| !p.is_empty()).collect(), name })
        })
        .collect()
});

/// Every documented workbook request shape: method and path under `/workbook` (`{}` for a key).
pub(crate) fn surface_templates() -> impl Iterator<Item = (&'static str, String)> {
    SURFACE.iter().map(|t| (t.method, t.parts.join("/")))
}

/// Every workbook call shape msgraph-sdk sends (method and URL template under `/workbook`),
/// parsed like a request path; keys are segments in braces.
pub(super) static SDK_SHAPES: LazyLock<Vec<(&'static str, &'static str, Vec<Segment<'static>>)>> =
    LazyLock::new(|| {
        include_str!("../sdk_url_templates.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (method, path) = l.split_once('\t')?;
                Some((method, path, segments(path).ok()?))
            })
            .collect()
    });

/// The SDK call shape a workbook path has, for the method: `GET tables/{workbookTable-id}/worksheet`.
pub(super) fn match_sdk(method: &str, segs: &[Segment]) -> Option<String> {
    let (m, path, _) = SDK_SHAPES.iter().find(|(m, _, shape)| {
        m.eq_ignore_ascii_case(method)
            && shape.len() == segs.len()
            && shape.iter().zip(segs).all(|(p, s)| {
                if p.name.starts_with('{') {
                    s.args.is_none()
                } else {
                    p.name.eq_ignore_ascii_case(&s.name)
                }
            })
    })?;
    let shape = path.trim_start_matches('/').replace("%2D", "-");
    Some(format!("{m} workbook/{shape}"))
}

/// The documented operation a workbook path names: the template with the most literal segments
/// matching, for the method; `Err` with 405 when the path is known under other methods only.
pub(super) fn match_surface(method: &str, segs: &[Segment]) -> Result<&'static str, GraphError> {
    let mut best: Option<(usize, &Template)> = None;
    let mut other_method: Option<&Template> = None;
    for t in SURFACE.iter() {
        if t.parts.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let fits = t.parts.iter().zip(segs).all(|(p, s)| {
            if *p == "{}" {
                s.args.is_none() || s.name.starts_with('{')
            } else if p.eq_ignore_ascii_case(&s.name) {
                literal += 1;
                true
            } else {
                false
            }
        });
        if !fits {
            continue;
        }
        if t.method.eq_ignore_ascii_case(method) {
            if best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, t));
            }
        } else {
            other_method = other_method.or(Some(t));
        }
    }
    match (best, other_method) {
        (Some((_, t)), _) => Ok(t.name),
        (None, Some(t)) => Err(GraphError::method_not_allowed(method, t.name)),
        (None, None) => Err(GraphError::unknown_segment(segs.last().map_or("workbook", |s| s.name.as_ref()))),
    }
}
