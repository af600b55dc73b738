//! One tab's rows: all items of a provider kind, the filtered+sorted view over them,
//! the cursor and the selection.
//!
//! The view is a `Vec<usize>` of indexes into `items`, recomputed only when the data,
//! the filter or the sort changes (never per frame), so 100,000 rows stay cheap to draw.

use crate::inventory::{Item, ItemKey, ProviderKind};
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;

/// Table columns, in display order. `s` cycles the sort through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    Id,
    Account,
    Region,
    Status,
    Type,
    Created,
    Bindings,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Name,
        Column::Id,
        Column::Account,
        Column::Region,
        Column::Status,
        Column::Type,
        Column::Created,
        Column::Bindings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Id => "id",
            Column::Account => "account",
            Column::Region => "region",
            Column::Status => "status",
            Column::Type => "type",
            Column::Created => "created",
            Column::Bindings => "bindings",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }

    fn compare(self, a: &Item, b: &Item) -> Ordering {
        match self {
            Column::Name => a.name.cmp(&b.name),
            Column::Id => a.key.id.cmp(&b.key.id),
            Column::Account => a.key.account.cmp(&b.key.account),
            Column::Region => a.key.region.cmp(&b.key.region),
            Column::Status => a.status.label().cmp(b.status.label()),
            Column::Type => a.key_type.cmp(&b.key_type),
            Column::Created => a.created.cmp(&b.created),
            Column::Bindings => a.bindings.len().cmp(&b.bindings.len()),
        }
    }
}

/// Lower-cased text of every column, computed once per data change so that each
/// filter keystroke is one `contains` per row.
fn haystack(item: &Item) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        item.name,
        item.key.id,
        item.key.account,
        item.key.region,
        item.status.label(),
        item.key_type,
        item.created,
        item.bindings_text(),
        item.description
    )
    .to_lowercase()
}

pub struct TabState {
    pub kind: ProviderKind,
    items: Vec<Item>,
    haystacks: Vec<String>,
    /// Indexes into `items`, filtered and sorted.
    view: Vec<usize>,
    /// Position of the highlighted row in `view`.
    cursor: usize,
    /// First visible row; a render cache the renderer adjusts to keep the cursor in view.
    pub offset: Cell<usize>,
    filter: String,
    sort: Column,
    descending: bool,
    selected: HashSet<ItemKey>,
    /// How many selected items are in `view` (the rest are hidden by the filter).
    selected_visible: usize,
}

impl TabState {
    pub fn new(kind: ProviderKind) -> Self {
        TabState {
            kind,
            items: Vec::new(),
            haystacks: Vec::new(),
            view: Vec::new(),
            cursor: 0,
            offset: Cell::new(0),
            filter: String::new(),
            sort: Column::Name,
            descending: false,
            selected: HashSet::new(),
            selected_visible: 0,
        }
    }

    pub fn items(&self) -> &[Item] {
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
    pub fn view_item(&self, pos: usize) -> Option<&Item> {
        self.view.get(pos).and_then(|&i| self.items.get(i))
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn highlighted(&self) -> Option<&Item> {
        self.view_item(self.cursor)
    }

    pub fn filter(&self) -> &str {
        &self.filter
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
    pub fn selected_items(&self) -> Vec<&Item> {
        self.items.iter().filter(|i| self.selected.contains(&i.key)).collect()
    }

    /// Replace every item of one (account, region) with a fresh listing.
    pub fn replace_source(&mut self, account: &str, region: &str, fresh: Vec<Item>) {
        self.items
            .retain(|i| !(i.key.account == account && i.key.region == region));
        self.items.extend(fresh);
        // While regions load one by one, an operator who has not moved expects the top
        // of the list, not whichever item happened to arrive first.
        let at_top = self.cursor == 0;
        self.data_changed();
        if at_top {
            self.cursor = 0;
        }
    }

    /// Apply a post-run re-read: `ids` were touched by the run in (account, region);
    /// those missing from `fresh` are gone, those present are replaced or added.
    pub fn apply_refresh(&mut self, account: &str, region: &str, ids: &HashSet<String>, fresh: Vec<Item>) {
        let fresh_ids: HashSet<&str> = fresh.iter().map(|i| i.key.id.as_str()).collect();
        self.items.retain(|i| {
            let here = i.key.account == account && i.key.region == region;
            !(here && (fresh_ids.contains(i.key.id.as_str()) || ids.contains(&i.key.id)))
        });
        self.items.extend(fresh);
        self.data_changed();
    }

    fn data_changed(&mut self) {
        self.haystacks = self.items.iter().map(haystack).collect();
        let present: HashSet<&ItemKey> = self.items.iter().map(|i| &i.key).collect();
        self.selected.retain(|k| present.contains(k));
        self.recompute();
    }

    pub fn set_filter(&mut self, filter: &str) {
        if self.filter != filter {
            self.filter = filter.to_string();
            self.recompute();
        }
    }

    pub fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.recompute();
    }

    pub fn reverse_sort(&mut self) {
        self.descending = !self.descending;
        self.recompute();
    }

    /// Rebuild the view, keeping the highlighted item under the cursor when it survives.
    fn recompute(&mut self) {
        let keep = self.highlighted().map(|i| i.key.clone());
        let needle = self.filter.to_lowercase();
        let mut view: Vec<usize> = if needle.is_empty() {
            (0..self.items.len()).collect()
        } else {
            (0..self.items.len())
                .filter(|&i| self.haystacks[i].contains(&needle))
                .collect()
        };
        let (column, descending, items) = (self.sort, self.descending, &self.items);
        view.sort_by(|&a, &b| {
            // Id as tie-breaker keeps the order stable across reloads.
            let ord = column
                .compare(&items[a], &items[b])
                .then_with(|| items[a].key.cmp(&items[b].key));
            if descending { ord.reverse() } else { ord }
        });
        self.view = view;
        self.cursor = keep
            .and_then(|k| self.view.iter().position(|&i| self.items[i].key == k))
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

    /// Items for `keys` that still exist, in data order.
    pub fn items_for(&self, keys: &[ItemKey]) -> Vec<&Item> {
        let wanted: HashSet<&ItemKey> = keys.iter().collect();
        self.items.iter().filter(|i| wanted.contains(&i.key)).collect()
    }
}
