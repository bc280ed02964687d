//! Users: uniqueness, lookups, credentials, search.

use protocol::UserId;
use storage::{NewUser, StoreError};

use crate::support::{next_id, now_ms, token, user, user_named, Backend};

/// A duplicate username is a conflict; lookups and renames work; counts grow.
pub async fn create_conflict_and_lookup(b: &Backend) {
    let store = &b.store;
    let before = store.count_users().await.unwrap();
    let ann = user(store).await;
    let bob = user(store).await;
    assert!(store.count_users().await.unwrap() >= before + 2);
    assert_eq!(ann.status, None);

    let err = store
        .create_user(NewUser {
            id: next_id(),
            username: ann.username.clone(),
            display_name: "Someone else".into(),
            password_hash: "x".into(),
            created_at: now_ms(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert_eq!(store.user(ann.id).await.unwrap(), Some(ann.clone()));
    assert_eq!(store.user(next_id()).await.unwrap(), None);
    let mut found = store.users(&[bob.id, ann.id, next_id()]).await.unwrap();
    found.sort_by_key(|u| u.id);
    assert_eq!(found, vec![ann.clone(), bob.clone()]);
    assert!(store.users(&[]).await.unwrap().is_empty());

    let renamed = store
        .update_display_name(ann.id, "Ann Renamed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.display_name, "Ann Renamed");
    assert_eq!(renamed.username, ann.username);
    assert_eq!(
        store.user(ann.id).await.unwrap().unwrap().display_name,
        "Ann Renamed"
    );
    let missing: UserId = next_id();
    assert_eq!(store.update_display_name(missing, "x").await.unwrap(), None);
}

/// Credentials return the user and the stored hash; unknown names return nothing.
pub async fn credentials(b: &Backend) {
    let store = &b.store;
    let ann = user(store).await;
    let (found, hash) = store.credentials(&ann.username).await.unwrap().unwrap();
    assert_eq!(found, ann);
    assert!(hash.starts_with("$argon2id$"));
    assert_eq!(store.credentials(&token()).await.unwrap(), None);
}

/// Prefix of the username or of any word of the display name, case-insensitive,
/// ordered by username, limited; never a match inside a word.
pub async fn search_prefix_rules(b: &Backend) {
    let store = &b.store;
    let tok = token();
    let first = user_named(store, &format!("{tok}a"), "Plain Name").await;
    let second = user_named(store, &format!("{tok}b"), &format!("Zed {tok}x Yellow")).await;
    let third = user_named(
        store,
        &format!("q{tok}c"),
        &format!("Mixed {}Case", tok.to_uppercase()),
    )
    .await;

    let names = |users: Vec<protocol::User>| -> Vec<String> {
        users.into_iter().map(|u| u.username).collect()
    };
    let mut all = vec![
        first.username.clone(),
        second.username.clone(),
        third.username.clone(),
    ];
    all.sort();
    assert_eq!(names(store.search_users(&tok, 10).await.unwrap()), all);
    assert_eq!(
        names(store.search_users(&tok.to_uppercase(), 10).await.unwrap()),
        all,
        "case-insensitive"
    );
    assert_eq!(
        names(store.search_users(&tok, 2).await.unwrap()),
        all[..2].to_vec()
    );
    // A word of the display name, not its start: "{tok}x" is the second word.
    assert_eq!(
        names(store.search_users(&format!("{tok}x"), 10).await.unwrap()),
        vec![second.username.clone()]
    );
    // Inside a word or a username: no match.
    let inner = &tok[1..];
    let found = names(store.search_users(inner, 100).await.unwrap());
    assert!(found.iter().all(|name| !all.contains(name)), "{found:?}");
}
