//! One tab's rows: all items of a provider kind, the filtered+sorted view over them,
//! the cursor and the selection.
//!
//! The view is a `Vec<usize>` of indexes into `items`, recomputed only when the data,
//! the filter or the sort changes (never per frame), so 100,000 rows stay cheap to draw.
//! The sorted order of all items is kept apart from the view, so a filter keystroke is
//! one scan without a sort, and a keystroke that narrows the filter scans only the view.

use crate::filter::{self, FilterError, Judged, Query};
use crate::findings::{self, FindingSet, Thresholds};
use crate::inventory::{Item, ItemKey, ProviderKind, RegionOrder, Row, Scope, Timestamp};
use compact_str::CompactString;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::HashSet;

/// Table columns, in display order. `s` cycles the sort through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    Id,
    Account,
    Region,
    Status,
    /// The findings' ids (`old unused`); sorts by risk, the most urgent first.
    Findings,
    Type,
    /// How long ago the key was created (`412d`); sorts by `created`, youngest first.
    Age,
    Bindings,
    /// When the key was last used (`12d ago`; CAM, OceanBase); shown only in a tab whose
    /// kind reports last use or that has one. Sorts by `last_used`, most recent first.
    LastUsed,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::Name,
        Column::Id,
        Column::Account,
        Column::Region,
        Column::Status,
        Column::Findings,
        Column::Type,
        Column::Age,
        Column::Bindings,
        Column::LastUsed,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Id => "id",
            Column::Account => "account",
            Column::Region => "region",
            Column::Status => "status",
            Column::Type => "type",
            Column::Age => "age",
            Column::Bindings => "bindings",
            Column::LastUsed => "last used",
            Column::Findings => "findings",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }

    /// The order of two rows by this column; `Findings` needs the rows' findings, which the
    /// table keeps beside them (see `TabState::compare`).
    fn compare(self, a: &Row, b: &Row) -> Ordering {
        match self {
            Column::Name => a.name.cmp(&b.name),
            Column::Id => a.key.id.cmp(&b.key.id),
            Column::Account => a.key.scope.account.cmp(&b.key.scope.account),
            // The first region, then how many more list it.
            Column::Region => a
                .key
                .scope
                .region
                .cmp(&b.key.scope.region)
                .then_with(|| a.also_in.len().cmp(&b.also_in.len())),
            Column::Status => a.status.label().cmp(b.status.label()),
            Column::Type => a.key_type.cmp(&b.key_type),
            Column::Age => latest_first(a.created, b.created),
            Column::Bindings => a.bindings.len().cmp(&b.bindings.len()),
            Column::LastUsed => latest_first(a.last_used, b.last_used),
            Column::Findings => Ordering::Equal,
        }
    }
}

/// The order of the age and last-used columns: ascending reads as the column does
/// (`3h` before `412d`, `today` before `12d ago`), so the latest time comes first and an
/// unknown one last; descending puts the unknown, then the oldest, on top.
fn latest_first(a: Option<Timestamp>, b: Option<Timestamp>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// What the table keeps beside each row, computed when the row changes: its haystack for
/// free text and its findings (two bytes), so a keystroke never re-judges a row.
struct RowCache {
    haystack: Box<str>,
    findings: FindingSet,
}

impl RowCache {
    fn of(row: &Row, judge: &Judge) -> Self {
        RowCache {
            haystack: filter::haystack(row).into_boxed_str(),
            findings: findings::evaluate(row, &judge.thresholds, judge.now),
        }
    }
}

/// What rows are judged by: the thresholds of `[settings]` and the time the app last saw
/// (`App::wall_clock`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judge {
    pub thresholds: Thresholds,
    pub now: Timestamp,
    /// When the findings were last computed for every row: a key becomes `old` by waiting,
    /// so they are computed again once this is an hour behind `now`.
    judged_at: Timestamp,
}

impl Default for Judge {
    fn default() -> Self {
        Judge {
            thresholds: Thresholds::default(),
            now: Timestamp::UNIX_EPOCH,
            judged_at: Timestamp::UNIX_EPOCH,
        }
    }
}

/// How often the findings of unchanged rows are computed again as time passes.
const REJUDGE_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Whether `scope` lists `row` (the tab holds one kind: account and region decide).
fn in_scope(row: &Row, scope: &Scope) -> bool {
    row.key.scope.account == scope.account && row.lists_in(&scope.region)
}

pub struct TabState {
    pub kind: ProviderKind,
    /// One row per (account, id): a key several regions list is one row (see `Row`).
    items: Vec<Row>,
    /// Which of an account's regions a merged row is addressed through.
    region_order: RegionOrder,
    /// `RowCache::of(items[i])`, kept in step with `items`.
    cache: Vec<RowCache>,
    judge: Judge,
    /// Every index into `items` not in `touched`, sorted by the current sort; rebuilt when
    /// the sort changes, patched when the data does (see `place_touched`), never touched by
    /// the filter.
    order: Vec<usize>,
    /// Rows added or changed since `order` was last patched: placed by binary search, so a
    /// listing of k rows costs O(n + k log n) instead of a sort of all n rows (1,000 sources
    /// loading one by one would otherwise sort 70,000 rows a thousand times).
    touched: Vec<usize>,
    /// Scopes that contributed rows: a first listing of a scope has nothing to take off.
    listed_scopes: HashSet<Scope>,
    /// Indexes into `items`, filtered and sorted: a subsequence of `order`.
    view: Vec<usize>,
    /// The query `view` was computed with.
    view_query: Query,
    /// Position of the highlighted row in `view`.
    cursor: usize,
    /// First visible row; a render cache the renderer adjusts to keep the cursor in view.
    pub offset: Cell<usize>,
    /// The filter as typed.
    filter: String,
    /// Why the filter as typed does not parse; the view stays as the last good query left it.
    filter_error: Option<FilterError>,
    /// The last filter that parsed.
    query: Query,
    sort: Column,
    descending: bool,
    selected: HashSet<ItemKey>,
    /// How many selected items are in `view` (the rest are hidden by the filter).
    selected_visible: usize,
    /// `:account` / `:region`: rows outside are not in the view (`ScopeFilter::admits_row`).
    scope: super::scope::ScopeFilter,
    /// Scopes whose last reload failed: their rows are from an earlier load.
    stale: HashSet<Scope>,
    /// Rows several regions list, counted on each data change (the region column widens).
    merged: usize,
    /// Rows with a last-use date, counted on each data change (the column shows then).
    with_last_used: usize,
    /// Rows with a finding above info level (the tab title counts them).
    needing_action: usize,
}

impl TabState {
    pub fn new(kind: ProviderKind) -> Self {
        TabState {
            kind,
            items: Vec::new(),
            region_order: RegionOrder::default(),
            cache: Vec::new(),
            judge: Judge::default(),
            order: Vec::new(),
            touched: Vec::new(),
            listed_scopes: HashSet::new(),
            view: Vec::new(),
            view_query: Query::default(),
            cursor: 0,
            offset: Cell::new(0),
            filter: String::new(),
            filter_error: None,
            query: Query::default(),
            sort: Column::Name,
            descending: false,
            selected: HashSet::new(),
            selected_visible: 0,
            scope: Default::default(),
            stale: HashSet::new(),
            merged: 0,
            with_last_used: 0,
            needing_action: 0,
        }
    }

    /// The configured order of the sources (the app sets it from its sources); without it
    /// a merged row is addressed through its regions in name order.
    pub fn set_region_order(&mut self, order: RegionOrder) {
        self.region_order = order;
    }

    pub fn items(&self) -> &[Row] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn view_len(&self) -> usize {
        self.view.len()
    }

    /// The item at view position `pos`.
    pub fn view_item(&self, pos: usize) -> Option<&Row> {
        self.view.get(pos).and_then(|&i| self.items.get(i))
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn highlighted(&self) -> Option<&Row> {
        self.view_item(self.cursor)
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Why the filter as typed is not applied (the view keeps the last good one).
    pub fn filter_error(&self) -> Option<&FilterError> {
        self.filter_error.as_ref()
    }

    /// The findings of the row at view position `pos`.
    pub fn view_findings(&self, pos: usize) -> FindingSet {
        self.view
            .get(pos)
            .and_then(|&i| self.cache.get(i))
            .map_or(FindingSet::EMPTY, |c| c.findings)
    }

    /// The findings of the highlighted row, each with its reason, most urgent first.
    pub fn highlighted_findings(&self) -> Vec<findings::Finding> {
        self.highlighted()
            .map(|row| findings::explain(row, &self.judge.thresholds, self.judge.now))
            .unwrap_or_default()
    }

    /// Rows with a finding above info level.
    pub fn needing_action(&self) -> usize {
        self.needing_action
    }

    /// What the rows are judged by.
    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    /// The thresholds of `[settings]`; every row is judged again when they change.
    pub fn set_thresholds(&mut self, thresholds: Thresholds) {
        if self.judge.thresholds != thresholds {
            self.judge.thresholds = thresholds;
            self.rejudge();
        }
    }

    /// The time now, before each message. Time terms of the filter count from it; the
    /// findings of unchanged rows are computed again once an hour has passed.
    pub fn set_clock(&mut self, now: Timestamp) {
        self.judge.now = now;
        if now - self.judge.judged_at >= REJUDGE_EVERY {
            self.rejudge();
        }
    }

    /// Judge every row again and rebuild what depends on findings or time.
    fn rejudge(&mut self) {
        self.judge.judged_at = self.judge.now;
        if self.items.is_empty() {
            return;
        }
        for (row, cache) in self.items.iter().zip(self.cache.iter_mut()) {
            cache.findings = findings::evaluate(row, &self.judge.thresholds, self.judge.now);
        }
        self.recount();
        let keep = self.view.get(self.cursor).copied();
        if self.sort == Column::Findings {
            self.sort_order();
        }
        self.refilter(keep, false);
    }

    /// The counts the screen reads, in one pass: 2,000 listings arriving one by one each
    /// recount 70,000 rows, and every pass over the items is megabytes of memory.
    fn recount(&mut self) {
        let (mut merged, mut with_last_used, mut needing_action) = (0, 0, 0);
        for (row, cache) in self.items.iter().zip(&self.cache) {
            merged += usize::from(!row.also_in.is_empty());
            with_last_used += usize::from(row.last_used.is_some());
            needing_action += usize::from(cache.findings.worst() > Some(findings::Severity::Info));
        }
        (self.merged, self.with_last_used, self.needing_action) = (merged, with_last_used, needing_action);
    }

    pub fn sort(&self) -> (Column, bool) {
        (self.sort, self.descending)
    }

    pub fn selected_count(&self) -> usize {
        self.selected.len()
    }

    pub fn hidden_selected(&self) -> usize {
        self.selected.len().saturating_sub(self.selected_visible)
    }

    pub fn is_selected(&self, key: &ItemKey) -> bool {
        self.selected.contains(key)
    }

    /// Selected items in data order (what an action acts on).
    pub fn selected_items(&self) -> Vec<&Row> {
        self.items.iter().filter(|i| self.selected.contains(&i.key)).collect()
    }

    /// Replace every item of one scope with a fresh listing. Rows other regions list too
    /// keep those regions; rows only this scope listed go.
    pub fn replace_source(&mut self, scope: &Scope, fresh: Vec<Item>) {
        // While regions load one by one, an operator who has not moved expects the top of
        // the list, not whichever item happened to arrive first; one who has moved keeps
        // their item under the cursor.
        let keep = if self.cursor == 0 {
            None
        } else {
            self.highlighted().map(|i| i.key.clone())
        };
        self.unlist(scope, |_| true);
        self.list(fresh);
        self.stale.remove(scope);
        self.data_changed(keep);
    }

    /// A reload of `scope` failed: its rows stay, marked as from an earlier load.
    pub fn mark_stale(&mut self, scope: &Scope) {
        if self.items.iter().any(|i| in_scope(i, scope)) {
            self.stale.insert(scope.clone());
        }
    }

    /// Whether a row is listed by several regions (`ap-guangzhou +2` needs a wider column).
    pub fn any_merged(&self) -> bool {
        self.merged > 0
    }

    /// Whether a row has a last-use date (the last-used column is shown).
    pub fn any_last_used(&self) -> bool {
        self.with_last_used > 0
    }

    pub fn any_stale(&self) -> bool {
        !self.stale.is_empty()
    }

    pub fn is_stale(&self, scope: &Scope) -> bool {
        self.stale.contains(scope)
    }

    /// Apply a post-run re-read: `ids` were touched by the run in `scope`;
    /// those missing from `fresh` are gone from it, those present are replaced or added.
    /// A row other regions list too stays until their re-reads say otherwise.
    pub fn apply_refresh(&mut self, scope: &Scope, ids: &HashSet<String>, fresh: Vec<Item>) {
        let keep = self.highlighted().map(|i| i.key.clone());
        let fresh_ids: HashSet<&str> = fresh.iter().map(|i| i.key.id.as_str()).collect();
        self.unlist(scope, |row| {
            fresh_ids.contains(row.key.id.as_str()) || ids.contains(row.key.id.as_str())
        });
        self.list(fresh);
        self.data_changed(keep);
    }

    /// Take `scope`'s region off the rows it lists that `chosen` picks; rows no region
    /// lists any more go. A row whose
    /// first region went is addressed through the next one: its selection follows it.
    fn unlist(&mut self, scope: &Scope, chosen: impl Fn(&Row) -> bool) {
        if !self.listed_scopes.contains(scope) {
            return;
        }
        let mut gone = vec![false; self.items.len()];
        for (i, row) in self.items.iter_mut().enumerate() {
            if !in_scope(row, scope) || !chosen(row) {
                continue;
            }
            let before = row.key.clone();
            if !row.remove_region(&scope.region) {
                gone[i] = true;
                continue;
            }
            if row.key != before && self.selected.remove(&before) {
                self.selected.insert(row.key.clone());
            }
            self.cache[i] = RowCache::of(row, &self.judge);
            // Its regions (and maybe its key) changed: its place in the order may too.
            self.touched.push(i);
        }
        if gone.contains(&true) {
            // New index of each kept row; `order` and `touched` follow the removal.
            let mut next = 0;
            let remap: Vec<Option<usize>> = gone
                .iter()
                .map(|&g| {
                    (!g).then(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect();
            self.order = self.order.iter().filter_map(|&i| remap[i]).collect();
            self.touched = self.touched.iter().filter_map(|&i| remap[i]).collect();
            // `retain` visits every element once, in order, so the flags line up with both vectors.
            let mut flags = gone.iter();
            self.items.retain(|_| !flags.next().copied().unwrap_or(false));
            let mut flags = gone.iter();
            self.cache.retain(|_| !flags.next().copied().unwrap_or(false));
        }
    }

    /// Add one scope's items: an id a row of the same account already has joins that row
    /// (see `Row::add_listing`), any other is a new row. Only the touched rows' haystacks
    /// are computed: loading N sources one by one stays linear.
    fn list(&mut self, fresh: Vec<Item>) {
        let Some(first) = fresh.first() else {
            return;
        };
        let account = first.key.scope.account.clone();
        self.listed_scopes.insert(first.key.scope.clone());
        // A source lists one account: index that account's rows by id.
        let mut by_id: HashMap<CompactString, usize> = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, r)| r.key.scope.account == account)
            .map(|(i, r)| (r.key.id.clone(), i))
            .collect();
        for item in fresh {
            let found = (item.key.scope.account == account)
                .then(|| by_id.get(&item.key.id).copied())
                .flatten();
            match found {
                Some(i) => {
                    let row = &mut self.items[i];
                    let before = row.key.clone();
                    row.add_listing(item, &self.region_order);
                    if row.key != before && self.selected.remove(&before) {
                        self.selected.insert(row.key.clone());
                    }
                    self.cache[i] = RowCache::of(row, &self.judge);
                    self.touched.push(i);
                }
                None => {
                    let row = Row::from(item);
                    self.touched.push(self.items.len());
                    if row.key.scope.account == account {
                        by_id.insert(row.key.id.clone(), self.items.len());
                    }
                    self.cache.push(RowCache::of(&row, &self.judge));
                    self.items.push(row);
                }
            }
        }
    }

    /// After the items changed: forget selected items that are gone, re-sort, re-filter,
    /// and keep the item that was highlighted (`keep`) under the cursor if it is still there.
    fn data_changed(&mut self, keep: Option<ItemKey>) {
        if !self.selected.is_empty() {
            let present: HashSet<&ItemKey> = self.items.iter().map(|i| &i.key).collect();
            self.selected.retain(|k| present.contains(k));
        }
        self.recount();
        // By account and id: a merged row may now be addressed through another region.
        let keep = keep.and_then(|k| {
            self.items
                .iter()
                .position(|i| i.key.id == k.id && i.key.scope.account == k.scope.account)
        });
        self.place_touched();
        self.refilter(keep, false);
    }

    /// The filter as typed: applied when it parses; otherwise the view stays as it was and
    /// `filter_error` says what is wrong (typing on, the next keystroke may fix it).
    pub fn set_filter(&mut self, filter: &str) {
        if self.filter == filter {
            return;
        }
        self.filter = filter.to_string();
        match crate::filter::parse(filter) {
            Ok(query) => {
                self.filter_error = None;
                self.query = query;
                let keep = self.view.get(self.cursor).copied();
                self.refilter(keep, true);
            }
            Err(e) => self.filter_error = Some(e),
        }
    }

    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.resort();
    }

    pub fn reverse_sort(&mut self) {
        self.descending = !self.descending;
        self.resort();
    }

    fn resort(&mut self) {
        let keep = self.view.get(self.cursor).copied();
        self.sort_order();
        self.refilter(keep, false);
    }

    /// The sort order of two rows: the current column, the key as tie-breaker so the order
    /// is total and stable across reloads.
    fn compare(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let items = &self.items;
        let by_column = match self.sort {
            // The most urgent first, then the most findings.
            Column::Findings => self.cache[b].findings.risk().cmp(&self.cache[a].findings.risk()),
            column => column.compare(&items[a], &items[b]),
        };
        let ord = by_column.then_with(|| items[a].key.cmp(&items[b].key));
        if self.descending { ord.reverse() } else { ord }
    }

    /// Sort every item by the current column.
    fn sort_order(&mut self) {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_unstable_by(|&a, &b| self.compare(a, b));
        self.order = order;
        self.touched.clear();
    }

    /// Put the touched rows into `order`: take them out, sort them, and insert each by
    /// binary search among the others (the result is exactly what `sort_order` gives, since
    /// the order is total). When most rows are touched, one sort is cheaper.
    fn place_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        if touched.is_empty() {
            return;
        }
        if touched.len() * 4 >= self.items.len() {
            return self.sort_order();
        }
        touched.sort_unstable();
        touched.dedup();
        let mut is_touched = vec![false; self.items.len()];
        for &t in &touched {
            is_touched[t] = true;
        }
        let stable: Vec<usize> = self.order.iter().copied().filter(|&i| !is_touched[i]).collect();
        touched.sort_unstable_by(|&a, &b| self.compare(a, b));
        let mut order = Vec::with_capacity(stable.len() + touched.len());
        let mut from = 0;
        for t in touched {
            let at = from + stable[from..].partition_point(|&s| self.compare(s, t).is_lt());
            order.extend_from_slice(&stable[from..at]);
            order.push(t);
            from = at;
        }
        order.extend_from_slice(&stable[from..]);
        self.order = order;
    }

    /// Rebuild the view from `order` and the query, putting the cursor on item `keep`
    /// (an index into `items`) when it is still shown. With `narrowing_ok` and a query that
    /// narrows the one the view was built with (more text typed, a term added), only the
    /// current view is scanned: every row the new query matches, the old one matched.
    fn refilter(&mut self, keep: Option<usize>, narrowing_ok: bool) {
        let scope = &self.scope;
        let view: Vec<usize> = if self.query.is_empty() && scope.is_empty() {
            self.order.clone()
        } else if self.query.is_empty() {
            let items = &self.items;
            self.order
                .iter()
                .copied()
                .filter(|&i| scope.admits_row(&items[i]))
                .collect()
        } else {
            let source = if narrowing_ok && self.query.narrows(&self.view_query) {
                &self.view
            } else {
                &self.order
            };
            let matcher = self.query.at(self.judge.now);
            let (items, cache) = (&self.items, &self.cache);
            let matches = |&i: &usize| matcher.matches(&Judged::new(&items[i], &cache[i].haystack, cache[i].findings));
            // Without a scope no row is read for it: a text-only query touches only the
            // haystacks, not the items (100,000 rows in sort order are scattered in memory).
            if scope.is_empty() {
                source.iter().copied().filter(matches).collect()
            } else {
                source
                    .iter()
                    .copied()
                    .filter(|&i| scope.admits_row(&items[i]))
                    .filter(matches)
                    .collect()
            }
        };
        self.view = view;
        self.view_query = self.query.clone();
        self.cursor = keep
            .and_then(|k| self.view.iter().position(|&i| i == k))
            .unwrap_or(self.cursor)
            .min(self.view.len().saturating_sub(1));
        self.selected_visible = if self.selected.is_empty() {
            0
        } else {
            self.view
                .iter()
                .filter(|&&i| self.selected.contains(&self.items[i].key))
                .count()
        };
    }

    /// Move the cursor by `delta` rows, clamped to the view.
    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.view.len().saturating_sub(1);
        let target = if delta < 0 {
            self.cursor.saturating_sub(delta.unsigned_abs())
        } else {
            self.cursor.saturating_add(delta as usize)
        };
        self.cursor = target.min(last);
    }

    pub fn cursor_to(&mut self, pos: usize) {
        self.cursor = pos.min(self.view.len().saturating_sub(1));
    }

    /// Space: toggle the highlighted row.
    pub fn toggle_highlighted(&mut self) {
        let Some(key) = self.highlighted().map(|i| i.key.clone()) else {
            return;
        };
        if self.selected.remove(&key) {
            self.selected_visible = self.selected_visible.saturating_sub(1);
        } else {
            self.selected.insert(key);
            self.selected_visible += 1;
        }
    }

    /// `a`: add every row the filter shows.
    pub fn select_all_visible(&mut self) {
        for &i in &self.view {
            self.selected.insert(self.items[i].key.clone());
        }
        self.selected_visible = self.view.len();
    }

    /// Show only the rows `scope` admits. Selected rows it hides are unselected: an action
    /// must not reach keys the operator scoped away.
    pub fn set_scope(&mut self, scope: super::scope::ScopeFilter) {
        let keep = self.view.get(self.cursor).copied();
        self.scope = scope;
        if !self.selected.is_empty() {
            let outside: HashSet<&ItemKey> = self
                .items
                .iter()
                .filter(|r| !self.scope.admits_row(r))
                .map(|r| &r.key)
                .collect();
            let kept: HashSet<ItemKey> = self.selected.iter().filter(|k| !outside.contains(k)).cloned().collect();
            self.selected = kept;
        }
        self.refilter(keep, false);
    }

    pub fn clear_selection(&mut self) {
        self.selected.clear();
        self.selected_visible = 0;
    }

    /// Keys an action acts on: the selection, or the highlighted row when nothing is
    /// selected. Also how many of them the filter hides.
    pub fn targets(&self) -> (Vec<ItemKey>, usize) {
        if self.selected.is_empty() {
            (self.highlighted().map(|i| i.key.clone()).into_iter().collect(), 0)
        } else {
            let keys = self.selected_items().into_iter().map(|i| i.key.clone()).collect();
            (keys, self.hidden_selected())
        }
    }

    /// Rows for `keys` that still exist, in data order.
    pub fn items_for(&self, keys: &[ItemKey]) -> Vec<&Row> {
        let wanted: HashSet<&ItemKey> = keys.iter().collect();
        self.items.iter().filter(|i| wanted.contains(&i.key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Status;
    use crate::times;
    use compact_str::CompactString;

    fn item(region: &str, id: &str, name: &str) -> Item {
        Item {
            key: Scope::new(ProviderKind::Cvm, "acct", region).key(id),
            name: name.into(),
            status: Status::Active,
            key_type: "ssh-ed25519".into(),
            description: CompactString::default(),
            created: times::parse_rfc3339("2025-03-01T08:00:00Z"),
            modified: None,
            last_used: None,
            expires: None,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        }
    }

    fn names(tab: &TabState) -> Vec<String> {
        (0..tab.view_len())
            .filter_map(|p| tab.view_item(p))
            .map(|i| i.name.to_string())
            .collect()
    }

    /// Typing narrows from the current view, erasing widens from the sorted order: either
    /// way the view is the sorted matches and the highlighted item stays highlighted.
    #[test]
    fn narrowing_and_widening_the_filter_keep_order_and_cursor() {
        let mut tab = TabState::new(ProviderKind::Cvm);
        let names_in = ["web_2", "Bastion_1", "web_1", "bastion_3", "cache_1"];
        let items = names_in
            .iter()
            .enumerate()
            .map(|(i, n)| item("r1", &format!("skey-{i}"), n))
            .collect();
        tab.replace_source(&Scope::new(ProviderKind::Cvm, "acct", "r1"), items);
        assert_eq!(names(&tab), ["Bastion_1", "bastion_3", "cache_1", "web_1", "web_2"]);
        tab.cursor_to(1);
        for (filter, expected) in [
            ("b", vec!["Bastion_1", "bastion_3", "web_1", "web_2"]),
            ("ba", vec!["Bastion_1", "bastion_3"]),
            ("bas", vec!["Bastion_1", "bastion_3"]),
            ("ba", vec!["Bastion_1", "bastion_3"]),
            ("b", vec!["Bastion_1", "bastion_3", "web_1", "web_2"]),
            ("", vec!["Bastion_1", "bastion_3", "cache_1", "web_1", "web_2"]),
        ] {
            tab.set_filter(filter);
            assert_eq!(names(&tab), expected, "filter {filter:?}");
            assert_eq!(
                tab.highlighted().map(|i| i.name.as_str()),
                Some("bastion_3"),
                "filter {filter:?}"
            );
        }
        // A narrowing step after a re-sort starts from the new order.
        tab.set_filter("web");
        tab.reverse_sort();
        tab.set_filter("web_");
        assert_eq!(names(&tab), ["web_2", "web_1"]);
        // A reload keeps the highlighted item by key, not by position.
        tab.cursor_to(1);
        tab.replace_source(
            &Scope::new(ProviderKind::Cvm, "acct", "r0"),
            vec![item("r0", "skey-9", "web_9")],
        );
        assert_eq!(names(&tab), ["web_9", "web_2", "web_1"]);
        assert_eq!(tab.highlighted().map(|i| i.name.as_str()), Some("web_1"));
    }

    /// The age and last-used columns sort by the times, not their text: ascending reads as
    /// the column (youngest, most recently used first), an unknown time last; descending
    /// puts the unknown, then the oldest, first.
    #[test]
    fn age_and_last_use_sort_by_time_with_unknown_last_ascending() {
        let mut tab = TabState::new(ProviderKind::Cvm);
        let at = |t: &str| times::parse_rfc3339(t);
        let rows = [
            ("old", at("2021-01-01T00:00:00Z"), at("2025-02-01T00:00:00Z")),
            ("new", at("2025-03-01T07:59:59Z"), None),
            ("mid", at("2024-06-01T00:00:00Z"), at("2025-03-01T00:00:00Z")),
            ("unknown", None, at("2024-01-01T00:00:00Z")),
        ];
        let items = rows
            .iter()
            .map(|(name, created, last_used)| Item {
                created: *created,
                last_used: *last_used,
                ..item("r1", &format!("skey-{name}"), name)
            })
            .collect();
        tab.replace_source(&Scope::new(ProviderKind::Cvm, "acct", "r1"), items);
        while tab.sort().0 != Column::Age {
            tab.cycle_sort();
        }
        assert_eq!(names(&tab), ["new", "mid", "old", "unknown"]);
        tab.reverse_sort();
        assert_eq!(names(&tab), ["unknown", "old", "mid", "new"]);
        tab.reverse_sort();
        while tab.sort().0 != Column::LastUsed {
            tab.cycle_sort();
        }
        assert_eq!(names(&tab), ["mid", "old", "unknown", "new"]);
        assert!(tab.any_last_used());
    }

    /// A creation time is found by the free-text filter as the detail pane writes it.
    #[test]
    fn the_filter_finds_the_creation_time_as_written() {
        let mut tab = TabState::new(ProviderKind::Cvm);
        tab.replace_source(
            &Scope::new(ProviderKind::Cvm, "acct", "r1"),
            vec![item("r1", "skey-1", "web")],
        );
        tab.set_filter("2025-03-01t08");
        assert_eq!(names(&tab), ["web"]);
        tab.set_filter("2025-03-02");
        assert!(names(&tab).is_empty());
    }

    /// The post-run re-read of one region takes only that region off a row other regions
    /// list; the row goes with the re-read of its last region, and a region that still
    /// lists it keeps it.
    #[test]
    fn a_re_read_takes_only_its_own_region_off_a_merged_row() {
        let regions = ["r1", "r2", "r3"];
        let scope = |r: &str| Scope::new(ProviderKind::Cvm, "acct", r);
        let mut tab = TabState::new(ProviderKind::Cvm);
        tab.set_region_order(RegionOrder::new(regions.map(scope)));
        // Loaded last region first: the config order still decides which region leads.
        for r in regions.iter().rev() {
            tab.replace_source(&scope(r), vec![item(r, "skey-1", "web")]);
        }
        assert_eq!(tab.len(), 1);
        assert_eq!(tab.items()[0].key, scope("r1").key("skey-1"));
        tab.toggle_highlighted();
        let touched: HashSet<String> = ["skey-1".to_string()].into();
        tab.apply_refresh(&scope("r2"), &touched, Vec::new());
        assert_eq!(tab.items()[0].regions().collect::<Vec<_>>(), ["r1", "r3"]);
        tab.apply_refresh(&scope("r1"), &touched, Vec::new());
        assert_eq!(tab.items()[0].key, scope("r3").key("skey-1"));
        assert!(
            tab.is_selected(&scope("r3").key("skey-1")),
            "the selection follows the row"
        );
        // r3 still lists it (the delete was kept, say): the row stays.
        tab.apply_refresh(&scope("r3"), &touched, vec![item("r3", "skey-1", "web")]);
        assert_eq!(tab.len(), 1);
        tab.apply_refresh(&scope("r3"), &touched, Vec::new());
        assert!(tab.is_empty());
        assert_eq!(tab.selected_count(), 0);
        assert!(!tab.any_merged());
    }
}
