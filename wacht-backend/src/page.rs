//! Lists: one page ([`Page`], [`CursorPage`]) and every page as a [`Stream`].

use std::future::Future;

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use crate::Error;

/// One page of an offset-paginated list: `{"data": [...], "has_more", "limit"?, "offset"?}`.
///
/// The platform sends `data`, `has_more` and (usually) the `limit` and `offset` it applied;
/// Wacht's API description also promises a `total`, which the platform does not send (read
/// it as `None`). `data` is required; a missing `has_more` reads as `false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Whether more items follow this page.
    #[serde(default)]
    pub has_more: bool,
    /// How many items match in all, when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The page size the service applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The offset the service applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl<T> Page<T> {
    /// A page (for tests and emulators).
    pub fn new(data: Vec<T>, has_more: bool) -> Self {
        Page {
            data,
            has_more,
            total: None,
            limit: None,
            offset: None,
        }
    }
}

/// One page of a cursor-paginated list: `{"data": [...], "has_more", "limit"?, "next_cursor"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CursorPage<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Whether more items follow this page.
    #[serde(default)]
    pub has_more: bool,
    /// The page size the service applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The cursor of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Every page of an offset-paginated list, from `start`: `fetch(offset)` is called for each
/// page, the next offset being this one plus the items received. The stream ends after a
/// page with `has_more: false`, after an empty page (a service that says "more" but sends
/// nothing would otherwise be asked forever), or after the first error, which it yields.
pub fn offset_pages<'a, T, F, Fut>(
    start: u64,
    mut fetch: F,
) -> impl Stream<Item = Result<Page<T>, Error>> + Send + 'a
where
    T: Send + 'a,
    F: FnMut(u64) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'a,
{
    futures_util::stream::unfold(Some(start), move |next| {
        let page = next.map(&mut fetch);
        async move {
            let offset = next?;
            match page?.await {
                Ok(page) => {
                    let received = page.data.len() as u64;
                    let more = page.has_more && received > 0;
                    let following = more.then(|| offset.saturating_add(received));
                    Some((Ok(page), following))
                }
                Err(error) => Some((Err(error), None)),
            }
        }
    })
}

/// Every page of a cursor-paginated list, from `start` (`None`: the first page):
/// `fetch(cursor)` is called for each page with the previous page's `next_cursor`. The stream
/// ends after a page without `has_more` or without a next cursor, after a page whose next
/// cursor is the one just used, or after the first error, which it yields.
pub fn cursor_pages<'a, T, F, Fut>(
    start: Option<String>,
    mut fetch: F,
) -> impl Stream<Item = Result<CursorPage<T>, Error>> + Send + 'a
where
    T: Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<CursorPage<T>, Error>> + Send + 'a,
{
    futures_util::stream::unfold(Some(start), move |next| {
        let used = next.clone().flatten();
        let page = next.map(&mut fetch);
        async move {
            match page?.await {
                Ok(page) => {
                    let following = match (&page.next_cursor, page.has_more) {
                        (Some(cursor), true) if Some(cursor) != used.as_ref() => {
                            Some(Some(cursor.clone()))
                        }
                        _ => None,
                    };
                    Some((Ok(page), following))
                }
                Err(error) => Some((Err(error), None)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};

    fn run<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn offsets_advance_by_what_was_received_and_stop() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&asked);
        let pages: Vec<_> = run(offset_pages(5, move |offset| {
            log.lock().expect("lock").push(offset);
            async move {
                let items: Vec<u64> = (offset..(offset + 3).min(12)).collect();
                Ok(Page::new(items, offset + 3 < 12))
            }
        })
        .collect());
        assert_eq!(*asked.lock().expect("lock"), [5, 8, 11]);
        let items: Vec<u64> = pages
            .into_iter()
            .flat_map(|p| p.expect("page").data)
            .collect();
        assert_eq!(items, (5..12).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_page_that_claims_more_ends_the_stream_and_errors_end_it_too() {
        let pages: Vec<_> =
            run(offset_pages(0, |_| async { Ok(Page::<u8>::new(Vec::new(), true)) }).collect());
        assert_eq!(pages.len(), 1);
        let pages: Vec<_> = run(offset_pages(0, |_| async {
            Err::<Page<u8>, _>(Error::Transport("down".into()))
        })
        .collect());
        assert_eq!(pages.len(), 1);
        assert!(pages[0].is_err());
    }

    #[test]
    fn cursors_are_followed_and_a_repeated_cursor_stops() {
        let pages: Vec<_> = run(cursor_pages(None, |cursor: Option<String>| async move {
            let n: u8 = cursor.as_deref().map_or(0, |c| c.parse().unwrap_or(0));
            Ok(CursorPage {
                data: vec![n],
                has_more: true,
                limit: None,
                // 0 -> "1" -> "2" -> "2" (repeated: stop)
                next_cursor: Some(n.saturating_add(1).min(2).to_string()),
            })
        })
        .collect());
        let items: Vec<u8> = pages
            .into_iter()
            .flat_map(|p| p.expect("page").data)
            .collect();
        assert_eq!(items, [0, 1, 2]);
    }
}
