//! Reading order: positioned glyphs → lines of text.
//!
//! Glyphs are grouped into rows by baseline, rows into *segments* at wide horizontal gaps,
//! and segments are ordered by a recursive XY-cut: at each step the region is split at its
//! widest empty band, vertical or horizontal. The Decree-30 header is a two-column table
//! whose cells share baselines; the widest empty band inside the header is the vertical
//! gutter between the columns, so the left cell (issuer, number) is read before the right
//! one (motto, place and date) instead of interleaving the two row by row.

use super::content::Glyph;

/// A horizontal run of glyphs on one baseline, without a wide gap inside.
#[derive(Debug, Clone)]
pub struct Segment {
    pub text: String,
    pub x0: f32,
    pub x1: f32,
    pub y: f32,
    pub size: f32,
}

impl Segment {
    fn top(&self) -> f32 {
        self.y + 0.75 * self.size
    }
    fn bottom(&self) -> f32 {
        self.y - 0.2 * self.size
    }
}

/// One line of extracted text with its geometry.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub x0: f32,
    pub x1: f32,
    pub y: f32,
    pub size: f32,
    /// The line begins a new block (a new XY-cut region or after a paragraph gap).
    pub block_start: bool,
}

/// A gap between glyphs wider than this many font sizes starts a new segment.
const SEGMENT_GAP_EM: f32 = 1.0;
/// A gap between glyphs wider than this many font sizes is a space.
const SPACE_GAP_EM: f32 = 0.16;
/// A vertical gutter must be at least this many font sizes wide to split columns.
const COLUMN_GUTTER_EM: f32 = 1.0;
/// Beyond this many segments a region is laid out row by row (bounded cost on hostile input).
const MAX_XY_CUT_SEGMENTS: usize = 6_000;

pub fn lines_from_glyphs(glyphs: &[Glyph]) -> Vec<Line> {
    let segments = segments_from_glyphs(glyphs);
    if segments.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for leaf in xy_cut_order(&segments) {
        let rows = rows_of(&segments, leaf);
        for row in rows {
            let first = &segments[row[0]];
            let mut line = Line {
                text: String::new(),
                x0: first.x0,
                x1: first.x1,
                y: first.y,
                size: first.size,
                block_start: false,
            };
            for &s in &row {
                let seg = &segments[s];
                if !line.text.is_empty() {
                    line.text.push(' ');
                }
                line.text.push_str(&seg.text);
                line.x0 = line.x0.min(seg.x0);
                line.x1 = line.x1.max(seg.x1);
                line.size = line.size.max(seg.size);
            }
            lines.push(line);
        }
    }
    // A block starts where the reading order jumps up (a new column) or leaves a paragraph gap.
    for i in 1..lines.len() {
        let (prev_y, prev_size) = (lines[i - 1].y, lines[i - 1].size);
        let line = &mut lines[i];
        line.block_start = line.y > prev_y || prev_y - line.y > 2.0 * line.size.max(prev_size);
    }
    if let Some(first) = lines.first_mut() {
        first.block_start = true;
    }
    lines
}

/// Rows by baseline, then segments split at wide gaps.
fn segments_from_glyphs(glyphs: &[Glyph]) -> Vec<Segment> {
    let mut order: Vec<usize> = (0..glyphs.len())
        .filter(|&i| glyphs[i].size > 0.5)
        .collect();
    order.sort_by(|&a, &b| glyphs[b].y.total_cmp(&glyphs[a].y));

    let mut segments = Vec::new();
    let mut row: Vec<usize> = Vec::new();
    let mut row_y = f32::NAN;
    let mut row_size = 0.0f32;
    for i in order {
        let g = &glyphs[i];
        if row.is_empty()
            || (row_y - g.y).abs() <= 0.35 * row_size.max(g.size).min(2.0 * row_size.min(g.size))
        {
            if row.is_empty() {
                row_y = g.y;
                row_size = g.size;
            }
            row.push(i);
        } else {
            split_row(glyphs, &mut row, &mut segments);
            row.push(i);
            row_y = g.y;
            row_size = g.size;
        }
    }
    split_row(glyphs, &mut row, &mut segments);
    segments
}

fn split_row(glyphs: &[Glyph], row: &mut Vec<usize>, segments: &mut Vec<Segment>) {
    if row.is_empty() {
        return;
    }
    row.sort_by(|&a, &b| glyphs[a].x0.total_cmp(&glyphs[b].x0));
    let space_centers: Vec<f32> = row
        .iter()
        .filter(|&&i| glyphs[i].text.trim().is_empty())
        .map(|&i| (glyphs[i].x0 + glyphs[i].x1) / 2.0)
        .collect();
    let mut current: Option<Segment> = None;
    let mut last_x0 = f32::NEG_INFINITY;
    let mut last_text: &str = "";
    for &i in row.iter() {
        let g = &glyphs[i];
        // Spaces are judged by geometry alone: signing systems overlay the number on a
        // run of blanks ("Số:      /QĐ-UBND"), and a blank glyph there is not a word break.
        if g.text.trim().is_empty() {
            continue;
        }
        // Producers fake bold by drawing a glyph twice with a small offset.
        if g.text == last_text && (g.x0 - last_x0).abs() < 0.15 * g.size {
            continue;
        }
        last_x0 = g.x0;
        last_text = &g.text;
        match current.as_mut() {
            Some(seg) => {
                let gap = g.x0 - seg.x1;
                let em = seg.size.max(g.size);
                if gap > SEGMENT_GAP_EM * em {
                    segments.push(current.take().expect("segment present"));
                    current = Some(new_segment(g));
                } else {
                    // Condensed lines (negative Tc) leave word gaps narrower than the threshold;
                    // a blank glyph drawn right there is then the word break.
                    let blank_between = gap > 0.02 * em
                        && space_centers
                            .iter()
                            .any(|&c| c >= seg.x1 - 0.01 && c <= g.x0 + 0.01);
                    if (gap > SPACE_GAP_EM * em || blank_between) && !seg.text.ends_with(' ') {
                        seg.text.push(' ');
                    }
                    seg.text.push_str(&g.text);
                    seg.x1 = seg.x1.max(g.x1);
                    seg.size = seg.size.max(g.size);
                    seg.y = if g.size >= seg.size { g.y } else { seg.y };
                }
            }
            None => current = Some(new_segment(g)),
        }
    }
    if let Some(seg) = current {
        segments.push(seg);
    }
    row.clear();
}

fn new_segment(g: &Glyph) -> Segment {
    Segment {
        text: g.text.clone(),
        x0: g.x0,
        x1: g.x1.max(g.x0),
        y: g.y,
        size: g.size,
    }
}

/// Leaves of the XY-cut tree, in reading order, each a list of segment indices.
fn xy_cut_order(segments: &[Segment]) -> Vec<Vec<usize>> {
    let mut leaves = Vec::new();
    // Explicit stack instead of recursion: hostile pages can nest thousands of cuts.
    let mut pending: Vec<Vec<usize>> = vec![(0..segments.len()).collect()];
    while let Some(node) = pending.pop() {
        // A single row stays one line: gaps inside it are blanks ("Số:      /BC-UBND",
        // "ngày    tháng    năm 2022") or tab stops, not columns.
        if node.len() <= 1
            || node.len() > MAX_XY_CUT_SEGMENTS
            || rows_of(segments, node.clone()).len() == 1
        {
            leaves.push(node);
            continue;
        }
        match best_cut(segments, &node) {
            Some(Cut::Vertical(x)) => {
                let (left, right): (Vec<usize>, Vec<usize>) =
                    node.iter().partition(|&&s| segments[s].x1 <= x);
                pending.push(right);
                pending.push(left);
            }
            Some(Cut::Horizontal(y)) => {
                let (above, below): (Vec<usize>, Vec<usize>) =
                    node.iter().partition(|&&s| segments[s].bottom() >= y);
                pending.push(below);
                pending.push(above);
            }
            None => leaves.push(node),
        }
    }
    leaves
}

enum Cut {
    Vertical(f32),
    Horizontal(f32),
}

fn best_cut(segments: &[Segment], node: &[usize]) -> Option<Cut> {
    let mut by_x: Vec<usize> = node.to_vec();
    by_x.sort_by(|&a, &b| segments[a].x0.total_cmp(&segments[b].x0));
    let mut vertical: Option<(f32, f32)> = None; // (width, cut position)
    let mut reach = segments[by_x[0]].x1;
    for &s in &by_x[1..] {
        let seg = &segments[s];
        if seg.x0 > reach {
            let width = seg.x0 - reach;
            if vertical.is_none_or(|(w, _)| width > w) {
                vertical = Some((width, (reach + seg.x0) / 2.0));
            }
        }
        reach = reach.max(seg.x1);
    }

    let mut by_top: Vec<usize> = node.to_vec();
    by_top.sort_by(|&a, &b| segments[b].top().total_cmp(&segments[a].top()));
    let mut horizontal: Option<(f32, f32)> = None;
    let mut floor = segments[by_top[0]].bottom();
    for &s in &by_top[1..] {
        let seg = &segments[s];
        if seg.top() < floor {
            let height = floor - seg.top();
            if horizontal.is_none_or(|(h, _)| height > h) {
                horizontal = Some((height, (floor + seg.top()) / 2.0));
            }
        }
        floor = floor.min(seg.bottom());
    }

    let mut sizes: Vec<f32> = node.iter().map(|&s| segments[s].size).collect();
    sizes.sort_by(f32::total_cmp);
    let typical_size = sizes[sizes.len() / 2];
    let vertical = vertical.filter(|(w, _)| *w >= COLUMN_GUTTER_EM * typical_size);

    match (vertical, horizontal) {
        (Some((w, x)), Some((h, _))) if w >= h => Some(Cut::Vertical(x)),
        (_, Some((_, y))) => Some(Cut::Horizontal(y)),
        (Some((_, x)), None) => Some(Cut::Vertical(x)),
        (None, None) => None,
    }
}

/// Groups a leaf's segments into rows (same baseline), each row ordered left to right.
fn rows_of(segments: &[Segment], mut leaf: Vec<usize>) -> Vec<Vec<usize>> {
    leaf.sort_by(|&a, &b| segments[b].y.total_cmp(&segments[a].y));
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut row_y = f32::NAN;
    for s in leaf {
        let seg = &segments[s];
        match rows.last_mut() {
            Some(row) if (row_y - seg.y).abs() <= 0.4 * seg.size => row.push(s),
            _ => {
                rows.push(vec![s]);
                row_y = seg.y;
            }
        }
    }
    for row in &mut rows {
        row.sort_by(|&a, &b| segments[a].x0.total_cmp(&segments[b].x0));
    }
    rows
}
