//! The `?` overlay: every key, in one table that the help test checks against.

/// (keys, what they do), in the order the overlay lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("Tab / Shift-Tab, 1 2 3", "switch provider tab"),
    ("j k / Down Up", "move the highlight"),
    ("PgDn PgUp", "move a page"),
    ("g G / Home End", "first / last row"),
    ("/", "filter rows (Enter keeps it, Esc clears it)"),
    ("s / S", "sort by the next column / reverse the order"),
    ("Space", "select or unselect the highlighted row"),
    ("a", "select every row the filter shows"),
    ("A / Esc", "clear the selection (Esc with none clears the filter)"),
    ("d", "delete the selection (or the highlighted row)"),
    ("r", "rotate API key secrets (generated or custom)"),
    ("e / x", "enable / disable API keys"),
    ("n", "rename a CVM key pair"),
    ("c / Ctrl-C", "cancel the running plan (unsent calls stay unsent)"),
    ("L", "focus the log pane (j k PgUp PgDn g G scroll, L/Esc back)"),
    (
        "H",
        "past results from the audit log, newest first (j k scroll, Esc/H close)",
    ),
    ("R", "reload every provider"),
    ("?", "this help"),
    ("q", "quit (asks first while a run is in progress)"),
    ("In a confirmation", "type e.g. `delete 37` + Enter, or y; Esc cancels"),
    (
        "In the new-secret dialog",
        "v reveal, c copy (OSC 52), Esc close and forget",
    ),
];
