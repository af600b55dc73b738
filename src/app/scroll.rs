//! One scrolling rule for every list on screen: the table, the log pane, the history
//! overlay, the queue view and the new-secret dialog.
//!
//! A window of `rows` lines over `len` lines starts at an offset in `0..=len - rows`, so
//! the last page is always full (jumping to the end never leaves one line and a blank
//! pane). With a cursor, the window moves as little as possible to keep it visible.

/// The largest offset that still fills the window.
pub fn max_offset(len: usize, rows: usize) -> usize {
    len.saturating_sub(rows.max(1))
}

/// A free window position (no cursor), clamped so the window stays full.
pub fn clamp(offset: usize, len: usize, rows: usize) -> usize {
    offset.min(max_offset(len, rows))
}

/// Move a free window by `delta` lines.
pub fn by(offset: usize, delta: isize, len: usize, rows: usize) -> usize {
    clamp(clamp(offset, len, rows).saturating_add_signed(delta), len, rows)
}

/// The window offset that shows `cursor`, moving as little as possible from `offset`.
pub fn follow(offset: usize, cursor: usize, len: usize, rows: usize) -> usize {
    let rows = rows.max(1);
    let mut offset = offset;
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + rows {
        offset = cursor + 1 - rows;
    }
    clamp(offset, len, rows)
}

/// A cursor moved by `delta`, kept on an existing line.
pub fn move_cursor(cursor: usize, delta: isize, len: usize) -> usize {
    cursor.saturating_add_signed(delta).min(len.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_fills_the_window() {
        assert_eq!(clamp(usize::MAX, 100, 10), 90);
        assert_eq!(clamp(5, 3, 10), 0, "a short list never scrolls");
        assert_eq!(by(0, isize::MAX, 100, 10), 90);
        assert_eq!(by(90, -5, 100, 10), 85);
        assert_eq!(by(2, -5, 100, 10), 0);
    }

    #[test]
    fn the_window_follows_the_cursor_by_the_least_movement() {
        assert_eq!(follow(0, 9, 100, 10), 0);
        assert_eq!(follow(0, 10, 100, 10), 1);
        assert_eq!(follow(50, 20, 100, 10), 20);
        assert_eq!(follow(0, 99, 100, 10), 90);
        assert_eq!(follow(95, 99, 100, 10), 90, "clamped so the last page is full");
        assert_eq!(move_cursor(0, -1, 5), 0);
        assert_eq!(move_cursor(3, 10, 5), 4);
        assert_eq!(move_cursor(0, 1, 0), 0);
    }
}
