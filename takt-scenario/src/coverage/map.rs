//! The behaviour map (the takt paper's Figure 3): every run a circle on a plane, similar
//! behaviours close together, so a run far from all others is one that showed something
//! new; with the coverage curve over the runs and the table of classes.
//!
//! Distances are Jaccard distances between the classes' feature sketches; the layout is
//! classical (Torgerson) MDS: `B = −½·J·D²·J`, its top two eigenvectors (by power
//! iteration, signs fixed) times √λ. It is deterministic. Above [`LANDMARKS`] classes,
//! landmark MDS places the rest from their distances to the first ones, so earlier
//! points do not move as a campaign grows.

use super::Coverage;
use std::fmt::Write as _;

/// Classes laid out by full MDS; the rest are placed from their distances to these.
pub const LANDMARKS: usize = 1000;

/// Jaccard distance of two sorted, deduplicated feature lists.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        1.0 - both as f64 / union as f64
    }
}

/// The top `k` eigenpairs of the symmetric matrix `m` (n × n, row-major), by power
/// iteration with deflation; each vector's largest component is made positive.
fn top_eigen(m: &[f64], n: usize, k: usize) -> Vec<(f64, Vec<f64>)> {
    let mut m = m.to_vec();
    let mut out = Vec::new();
    for _ in 0..k {
        // A fixed, non-degenerate start: deterministic.
        let mut v: Vec<f64> = (0..n).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
        let mut lambda = 0.0;
        for _ in 0..300 {
            let mut w = vec![0.0; n];
            for (r, wr) in w.iter_mut().enumerate() {
                *wr = (0..n).map(|c| m[r * n + c] * v[c]).sum();
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm < 1e-12 {
                lambda = 0.0;
                break;
            }
            let next: Vec<f64> = w.iter().map(|x| x / norm).collect();
            let rayleigh: f64 = (0..n)
                .map(|r| next[r] * (0..n).map(|c| m[r * n + c] * next[c]).sum::<f64>())
                .sum();
            let done = (rayleigh - lambda).abs() < 1e-10;
            lambda = rayleigh;
            v = next;
            if done {
                break;
            }
        }
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |a, x| if x.abs() > a.abs() { x } else { a });
        if big < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        for r in 0..n {
            for c in 0..n {
                m[r * n + c] -= lambda * v[r] * v[c];
            }
        }
        out.push((lambda, v));
    }
    out
}

/// 2-D positions of the classes.
pub fn layout(cov: &Coverage) -> Vec<(f64, f64)> {
    let n = cov.classes.len();
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![(0.0, 0.0)];
    }
    let l = n.min(LANDMARKS);
    let d2: Vec<f64> = (0..l * l)
        .map(|k| {
            let d = jaccard(&cov.classes[k / l].features, &cov.classes[k % l].features);
            d * d
        })
        .collect();
    // Double centring.
    let row: Vec<f64> = (0..l)
        .map(|r| (0..l).map(|c| d2[r * l + c]).sum::<f64>() / l as f64)
        .collect();
    let all = row.iter().sum::<f64>() / l as f64;
    let b: Vec<f64> = (0..l * l)
        .map(|k| -0.5 * (d2[k] - row[k / l] - row[k % l] + all))
        .collect();
    let eig = top_eigen(&b, l, 2);
    let coord = |i: usize, e: &(f64, Vec<f64>)| e.0.max(0.0).sqrt() * e.1[i];
    let mut pos: Vec<(f64, f64)> = (0..l)
        .map(|i| (coord(i, &eig[0]), coord(i, &eig[1])))
        .collect();
    // Landmark MDS for the rest: x = −½ · L# · (δ − δ̄), L# = v / √λ.
    for i in l..n {
        let delta: Vec<f64> = (0..l)
            .map(|j| jaccard(&cov.classes[i].features, &cov.classes[j].features).powi(2))
            .collect();
        let place = |e: &(f64, Vec<f64>)| {
            if e.0 <= 1e-12 {
                return 0.0;
            }
            -0.5 / e.0.sqrt() * (0..l).map(|j| e.1[j] * (delta[j] - row[j])).sum::<f64>()
        };
        pos.push((place(&eig[0]), place(&eig[1])));
    }
    pos
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The behaviour map page: one self-contained HTML file (SVG, no script needed).
pub fn html(cov: &Coverage, title: &str) -> String {
    let est = cov.estimate();
    let pos = layout(cov);
    let (w, h, pad) = (720.0, 520.0, 30.0);
    let (minx, maxx) = pos
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (miny, maxy) = pos
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let sx = |x: f64| pad + (x - minx) / (maxx - minx).max(1e-9) * (w - 2.0 * pad);
    let sy = |y: f64| pad + (y - miny) / (maxy - miny).max(1e-9) * (h - 2.0 * pad);
    let mut svg = String::new();
    let mut within = vec![0u64; cov.classes.len()];
    for r in &cov.runs {
        let (cx, cy) = pos
            .get(r.class)
            .map_or((w / 2.0, h / 2.0), |p| (sx(p.0), sy(p.1)));
        // Runs of one class around its point, on a golden-angle spiral.
        let k = within[r.class] as f64;
        within[r.class] += 1;
        let (a, d) = (k * 2.399_963, 2.2 * k.sqrt());
        let (x, y) = (cx + d * a.cos(), cy + d * a.sin());
        let c = &cov.classes[r.class];
        let tip = format!(
            "seed {} · class {} ({} runs){}",
            r.seed,
            r.class + 1,
            c.runs,
            if r.failed { " · FAILED" } else { "" }
        );
        let circle = format!(
            "<circle class=\"run{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" data-seed=\"{}\" data-class=\"{}\"><title>{}</title></circle>",
            if r.failed { " failed" } else { "" },
            r.seed,
            r.class + 1,
            esc(&tip)
        );
        match &r.report {
            Some(p) => {
                let _ = write!(svg, "<a href=\"{}\">{circle}</a>", esc(p));
            }
            None => svg.push_str(&circle),
        }
    }
    for (i, p) in pos.iter().enumerate() {
        let _ = write!(
            svg,
            "<text class=\"class-label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            sx(p.0) + 5.0,
            sy(p.1) - 5.0,
            i + 1
        );
    }
    // The coverage and discovery curves.
    let (cw, ch) = (720.0, 160.0);
    let curve = cov.coverage_curve();
    let classes = cov.curve();
    let n = curve.len().max(2) as f64 - 1.0;
    let maxc = *classes.iter().max().unwrap_or(&1) as f64;
    let line = |vals: Vec<f64>, max: f64| -> String {
        vals.iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    30.0 + i as f64 / n * (cw - 40.0),
                    ch - 20.0 - v / max * (ch - 30.0)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut table = String::new();
    for (i, c) in cov.classes.iter().enumerate() {
        let _ = write!(
            table,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            if c.failed { "failed" } else { "" },
            i + 1,
            c.runs,
            c.first_seed,
            &c.id[..16.min(c.id.len())]
        );
    }
    format!(
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #1d1d1f; background: #fafafa; }}
h1 {{ font-size: 16px; margin: 0 0 6px; }} .est {{ font-family: ui-monospace, monospace; }}
svg {{ background: #fff; border: 1px solid #ddd; display: block; margin: 8px 0; }}
.run {{ fill: #2563eb; fill-opacity: .65; }} .run.failed {{ fill: #dc2626; fill-opacity: .9; }}
.class-label {{ font-size: 10px; fill: #475569; }}
.cov {{ fill: none; stroke: #059669; stroke-width: 1.5; }} .cls {{ fill: none; stroke: #7c3aed; stroke-width: 1; }}
table {{ border-collapse: collapse; background: #fff; }} td, th {{ border: 1px solid #ddd; padding: 2px 8px; text-align: right; }}
tr.failed td {{ color: #b91c1c; }}
</style></head><body>
<h1>{title}</h1>
<p class="est" id="estimate">{est}</p>
<p class="est" id="groups">groups of similar behaviour (Jaccard distance ≤ {gd}): {groups}</p>
<p>Each circle is a run, placed by its behaviour (classical MDS of the Jaccard distances between classes); runs of one class sit together; red ones failed; numbers are classes in order of discovery. Hover a circle for its seed; click it to open its report, where one was written.</p>
<svg id="map" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">{svg}</svg>
<h2>Coverage over runs</h2>
<svg id="curve" width="{cw}" height="{ch}" xmlns="http://www.w3.org/2000/svg">
<polyline class="cov" points="{cov_line}"/><polyline class="cls" points="{cls_line}"/>
<text x="30" y="12" font-size="11" fill="#059669">coverage (0–100)</text>
<text x="160" y="12" font-size="11" fill="#7c3aed">classes (up to {maxc})</text>
</svg>
<h2>Classes</h2>
<table id="classes"><tr><th>class</th><th>runs</th><th>first seed</th><th>signature</th></tr>{table}</table>
</body></html>"##,
        title = esc(title),
        est = esc(&est.to_string()),
        gd = super::GROUP_DISTANCE,
        groups = esc(&cov.group_estimate().to_string()),
        cov_line = line(curve, 100.0),
        cls_line = line(classes.iter().map(|&c| c as f64).collect(), maxc),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_deterministic_and_keeps_distances_apart() {
        let mut cov = Coverage::new();
        cov.add(0, "a", &[1, 2, 3, 4], None);
        cov.add(1, "b", &[1, 2, 3, 5], None);
        cov.add(2, "c", &[10, 11, 12], None);
        let p = layout(&cov);
        assert_eq!(p, layout(&cov));
        let d = |i: usize, j: usize| ((p[i].0 - p[j].0).powi(2) + (p[i].1 - p[j].1).powi(2)).sqrt();
        assert!(d(0, 1) < d(0, 2) && d(0, 1) < d(1, 2), "{p:?}");
        assert_eq!(jaccard(&[1, 2], &[1, 2]), 0.0);
        assert_eq!(jaccard(&[1], &[2]), 1.0);
        let page = html(&cov, "t");
        assert_eq!(page.matches("<circle").count(), 3);
    }
}
