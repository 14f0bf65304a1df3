//! Paging results: shared by every service's wire layer.

/// A page token this emulator did not issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadToken;

/// Offset pagination: at most `limit` items from the offset in `token` (one this emulator
/// issued), and the token of the next page. `Err` for a token it did not issue.
pub fn offset_page<T: Clone>(
    items: Vec<T>,
    token: Option<&str>,
    limit: usize,
) -> Result<(Vec<T>, Option<String>), BadToken> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => t.parse::<usize>().map_err(|_| BadToken)?,
    };
    let end = (start + limit.max(1)).min(items.len());
    Ok((
        items.get(start..end).unwrap_or_default().to_vec(),
        (end < items.len()).then(|| end.to_string()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_lists() {
        let items: Vec<u32> = (0..25).collect();
        let (p1, t1) = offset_page(items.clone(), None, 10).unwrap();
        assert_eq!((p1.len(), t1.as_deref()), (10, Some("10")));
        let (p3, t3) = offset_page(items.clone(), Some("20"), 10).unwrap();
        assert_eq!((p3, t3), ((20..25).collect::<Vec<_>>(), None));
        assert!(offset_page(items, Some("bogus"), 10).is_err());
    }
}
