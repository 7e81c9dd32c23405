//! The translation memory: exact and fuzzy lookups within a scope, and never outside it; team
//! memories for members only; deletion of a user, a job or a purge takes the entries, the
//! retention purge and `keep_memory` keep them.

use std::time::Duration;

use tradia_core::{Content, LanguageTag};
use tradia_store::{
    Caller, JobMemory, MemoryOrigin, MemoryOwner, MemoryScope, NewMemoryEntry, NewUser, Role,
    StoreError,
};

use super::cases::{S, claim, new_job};

fn lang(tag: &str) -> LanguageTag {
    LanguageTag::parse(tag).expect("valid tag")
}

fn c(text: &str) -> Content {
    Content::parse(text).expect("content")
}

fn entry(source: &str, target: &str) -> NewMemoryEntry {
    NewMemoryEntry {
        source_lang: lang("fr"),
        target_lang: lang("en"),
        source: c(source),
        target: c(target),
        origin: MemoryOrigin::Llm,
        model: Some("m1".into()),
        prompt_version: Some("v1".into()),
        job: None,
    }
}

async fn caller(store: &S, login: &str) -> Caller {
    store.create_user(NewUser::new(login, Role::User)).await.expect("user").caller()
}

async fn exact(store: &S, who: &Caller, scope: MemoryScope, source: &str) -> Option<String> {
    let found = store
        .memory_exact_for(who, scope, &lang("fr"), &lang("en"), &[c(source)])
        .await
        .expect("exact lookup");
    found.into_iter().next().flatten().map(|e| e.target.render())
}

async fn fuzzy(store: &S, who: &Caller, scope: MemoryScope, source: &str) -> Vec<String> {
    let found = store
        .memory_fuzzy_for(who, scope, &lang("fr"), &lang("en"), &c(source), 10)
        .await
        .expect("fuzzy lookup");
    found.into_iter().map(|e| e.source.render()).collect()
}

pub async fn exact_and_fuzzy_lookups(store: S) {
    let a = caller(&store, "alice").await;
    let written = store
        .record_memory_for(
            &a,
            MemoryScope::Own,
            vec![
                entry(
                    "Lisez le <g1>guide</g1> avant de commencer.",
                    "Read the <g1>guide</g1> before starting.",
                ),
                entry(
                    "Le chat dort sur le canapé du salon.",
                    "The cat sleeps on the living-room sofa.",
                ),
            ],
        )
        .await
        .expect("record");
    assert_eq!(written, 2);
    // Same normalised key (whitespace collapsed), same codes.
    assert_eq!(
        exact(&store, &a, MemoryScope::Own, "Lisez le  <g1>guide</g1>\navant de commencer.")
            .await
            .as_deref(),
        Some("Read the <g1>guide</g1> before starting.")
    );
    // Other codes, or other languages: no exact match.
    assert_eq!(
        exact(&store, &a, MemoryScope::Own, "Lisez le guide avant de commencer.").await,
        None
    );
    let other_pair = store
        .memory_exact_for(
            &a,
            MemoryScope::Own,
            &lang("fr"),
            &lang("de"),
            &[c("Le chat dort sur le canapé du salon.")],
        )
        .await
        .unwrap();
    assert_eq!(other_pair, vec![None]);
    // Many at once, in order.
    let many = store
        .memory_exact_for(
            &a,
            MemoryScope::Own,
            &lang("fr"),
            &lang("en"),
            &[c("Rien."), c("Le chat dort sur le canapé du salon.")],
        )
        .await
        .unwrap();
    assert!(many[0].is_none());
    let hit = many[1].as_ref().expect("second is a hit");
    assert_eq!(hit.owner, MemoryOwner::User(a.user));
    assert_eq!(
        (hit.origin, hit.model.as_deref(), hit.prompt_version.as_deref()),
        (MemoryOrigin::Llm, Some("m1"), Some("v1"))
    );

    // Fuzzy: a near-identical sentence finds the entry, an unrelated one does not.
    let near = fuzzy(&store, &a, MemoryScope::Own, "Le chat dort sur le canapé du jardin.").await;
    assert_eq!(near.first().map(String::as_str), Some("Le chat dort sur le canapé du salon."));
    assert!(fuzzy(&store, &a, MemoryScope::Own, "Une phrase sans aucun rapport.").await.is_empty());

    // Recording the same source again replaces the translation.
    store
        .record_memory_for(
            &a,
            MemoryScope::Own,
            vec![entry("Le chat dort sur le canapé du salon.", "The cat is asleep on the sofa.")],
        )
        .await
        .unwrap();
    assert_eq!(
        exact(&store, &a, MemoryScope::Own, "Le chat dort sur le canapé du salon.")
            .await
            .as_deref(),
        Some("The cat is asleep on the sofa.")
    );
    let all = store.export_memory_for(&a, MemoryScope::Own, None, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        fuzzy(&store, &a, MemoryScope::Own, "Le chat dort sur le canapé du jardin.").await.len(),
        1
    );
}

pub async fn two_users_same_sentence_no_leak(store: S) {
    let a = caller(&store, "alice").await;
    let b = caller(&store, "bob").await;
    let sentence = "Le budget de la commune est voté en mars.";
    store
        .record_memory_for(
            &a,
            MemoryScope::Own,
            vec![entry(sentence, "The town budget is voted in March.")],
        )
        .await
        .unwrap();
    assert!(exact(&store, &a, MemoryScope::Own, sentence).await.is_some());
    assert_eq!(exact(&store, &b, MemoryScope::Own, sentence).await, None);
    assert_eq!(exact(&store, &b, MemoryScope::Teams, sentence).await, None);
    assert!(
        fuzzy(&store, &b, MemoryScope::Own, "Le budget de la commune est voté en avril.")
            .await
            .is_empty()
    );
    assert!(
        fuzzy(&store, &b, MemoryScope::Teams, "Le budget de la commune est voté en avril.")
            .await
            .is_empty()
    );
    assert!(store.export_memory_for(&b, MemoryScope::Own, None, 100).await.unwrap().is_empty());
    // Bob's purge does not touch Alice's memory; `off` reads nothing.
    assert_eq!(
        store.count_memory_for(&b, MemoryScope::Own).await.unwrap(),
        0,
        "Alice's not counted"
    );
    assert_eq!(store.purge_memory_for(&b, MemoryScope::Own, None).await.unwrap(), 0);
    assert!(exact(&store, &a, MemoryScope::Own, sentence).await.is_some());
    assert_eq!(exact(&store, &a, MemoryScope::Off, sentence).await, None);
    // Bob records the same sentence: two entries, each in its own memory.
    store
        .record_memory_for(&b, MemoryScope::Own, vec![entry(sentence, "Bob's version.")])
        .await
        .unwrap();
    assert_eq!(
        exact(&store, &a, MemoryScope::Own, sentence).await.as_deref(),
        Some("The town budget is voted in March.")
    );
    assert_eq!(
        exact(&store, &b, MemoryScope::Own, sentence).await.as_deref(),
        Some("Bob's version.")
    );
}

pub async fn team_memory_is_for_members(store: S) {
    let a = caller(&store, "alice").await;
    let b = caller(&store, "bob").await;
    let team = store.create_team("lettres").await.unwrap();
    store.add_team_member(team.id, a.user).await.unwrap();
    let sentence = "Veuillez trouver ci-joint le formulaire.";
    let scope = MemoryScope::Team(team.id);
    store
        .record_memory_for(&a, scope, vec![entry(sentence, "Please find the form attached.")])
        .await
        .unwrap();
    assert!(exact(&store, &a, scope, sentence).await.is_some());
    assert!(
        exact(&store, &a, MemoryScope::Teams, sentence).await.is_some(),
        "own + teams reads it"
    );
    assert_eq!(exact(&store, &a, MemoryScope::Own, sentence).await, None, "own alone does not");
    // Bob is no member: the team's memory does not exist for him.
    let refused = store.memory_exact_for(&b, scope, &lang("fr"), &lang("en"), &[c(sentence)]).await;
    assert!(matches!(refused, Err(StoreError::TeamNotFound(t)) if t == team.id), "{refused:?}");
    assert!(matches!(
        store.record_memory_for(&b, scope, vec![entry("x y z", "a")]).await,
        Err(StoreError::TeamNotFound(_))
    ));
    assert!(matches!(
        store.purge_memory_for(&b, scope, None).await,
        Err(StoreError::TeamNotFound(_))
    ));
    assert_eq!(exact(&store, &b, MemoryScope::Teams, sentence).await, None);
    // Once a member, he reads it; once removed, no more.
    store.add_team_member(team.id, b.user).await.unwrap();
    assert!(exact(&store, &b, MemoryScope::Teams, sentence).await.is_some());
    store.remove_team_member(team.id, b.user).await.unwrap();
    assert_eq!(exact(&store, &b, MemoryScope::Teams, sentence).await, None);
    // Deleting the team deletes its memory.
    store.delete_team(team.id).await.unwrap();
    assert_eq!(exact(&store, &a, MemoryScope::Teams, sentence).await, None);
}

pub async fn deleting_a_user_deletes_their_memory(store: S) {
    let _admin = store.create_user(NewUser::new("root", Role::Admin)).await.unwrap();
    let a = caller(&store, "alice").await;
    let sentence = "Le conseil se réunit chaque mois.";
    store
        .record_memory_for(
            &a,
            MemoryScope::Own,
            vec![entry(sentence, "The council meets monthly.")],
        )
        .await
        .unwrap();
    store.delete_user(a.user).await.expect("delete alice");
    // A new user with the same login sees nothing, and the fuzzy index holds nothing either.
    let again = caller(&store, "alice").await;
    assert_eq!(exact(&store, &again, MemoryScope::Own, sentence).await, None);
    let ghost = Caller { user: a.user, role: Role::User };
    assert_eq!(exact(&store, &ghost, MemoryScope::Own, sentence).await, None);
    assert!(fuzzy(&store, &ghost, MemoryScope::Own, sentence).await.is_empty());
}

pub async fn jobs_and_their_memory(store: S) {
    let a = caller(&store, "alice").await;
    let b = caller(&store, "bob").await;
    let gone = store.create_job_for(&a, new_job(1)).await.unwrap();
    let kept = store.create_job_for(&a, new_job(1)).await.unwrap();
    let expired = store.create_job_for(&a, new_job(1)).await.unwrap();
    // Options are set by the owner only; the worker reads them.
    assert!(matches!(
        store
            .set_job_memory_for(&b, kept.id, JobMemory { scope: MemoryScope::Own, keep: true })
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .set_job_memory_for(&a, kept.id, JobMemory { scope: MemoryScope::Teams, keep: true })
        .await
        .unwrap();
    assert_eq!(
        store.job_memory(kept.id).await.unwrap(),
        JobMemory { scope: MemoryScope::Teams, keep: true }
    );
    assert_eq!(store.job_memory(gone.id).await.unwrap(), JobMemory::default());
    for (job, text) in [
        (gone.id, "Première phrase du document."),
        (kept.id, "Deuxième phrase du document."),
        (expired.id, "Troisième phrase du document."),
    ] {
        let mut e = entry(text, "A sentence.");
        e.job = Some(job);
        store.record_memory_for(&a, MemoryScope::Own, vec![e]).await.unwrap();
    }
    // Bob cannot delete Alice's job, nor its memory.
    assert!(matches!(
        store.delete_job_with_memory_for(&b, gone.id, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(exact(&store, &a, MemoryScope::Own, "Première phrase du document.").await.is_some());
    // Deleting a job deletes its entries by default; a job created with keep_memory keeps them.
    store.delete_job_with_memory_for(&a, gone.id, None).await.unwrap();
    assert_eq!(exact(&store, &a, MemoryScope::Own, "Première phrase du document.").await, None);
    store.delete_job_with_memory_for(&a, kept.id, None).await.unwrap();
    let still = store
        .memory_exact_for(
            &a,
            MemoryScope::Own,
            &lang("fr"),
            &lang("en"),
            &[c("Deuxième phrase du document.")],
        )
        .await
        .unwrap();
    assert_eq!(
        still[0].as_ref().expect("kept").job,
        None,
        "the entry names no job once it is gone"
    );
    // The retention purge keeps memory.
    let claimed = claim(&store, "w", 60_000).await.expect("claim");
    assert_eq!(claimed.job.id, expired.id);
    store.finish_job(&claimed.lease).await.unwrap();
    let purged = store.purge_expired(Duration::ZERO).await.unwrap();
    assert_eq!(purged.jobs, vec![expired.id]);
    assert!(exact(&store, &a, MemoryScope::Own, "Troisième phrase du document.").await.is_some());
    // Purging one job's entries, then all.
    let job = store.create_job_for(&a, new_job(1)).await.unwrap();
    let mut e = entry("Quatrième phrase.", "Fourth.");
    e.job = Some(job.id);
    store.record_memory_for(&a, MemoryScope::Own, vec![e]).await.unwrap();
    assert_eq!(store.count_memory_for(&a, MemoryScope::Own).await.unwrap(), 3);
    assert_eq!(store.purge_memory_for(&a, MemoryScope::Own, Some(job.id)).await.unwrap(), 1);
    assert_eq!(exact(&store, &a, MemoryScope::Own, "Quatrième phrase.").await, None);
    assert_eq!(store.count_memory_for(&a, MemoryScope::Own).await.unwrap(), 2);
    assert_eq!(store.purge_memory_for(&a, MemoryScope::Own, None).await.unwrap(), 2);
    assert_eq!(store.count_memory_for(&a, MemoryScope::Own).await.unwrap(), 0);
    assert!(store.export_memory_for(&a, MemoryScope::Own, None, 100).await.unwrap().is_empty());
    assert!(fuzzy(&store, &a, MemoryScope::Own, "Deuxième phrase du document.").await.is_empty());
}

pub async fn bad_entries_are_refused(store: S) {
    let a = caller(&store, "alice").await;
    let empty = store.record_memory_for(&a, MemoryScope::Own, vec![entry("Bonjour.", "")]).await;
    assert!(matches!(empty, Err(StoreError::Invalid(_))), "{empty:?}");
    let long = "a".repeat(70_000);
    let too_long = store.record_memory_for(&a, MemoryScope::Own, vec![entry(&long, "x")]).await;
    assert!(matches!(too_long, Err(StoreError::Invalid(_))));
    let off =
        store.record_memory_for(&a, MemoryScope::Off, vec![entry("Bonjour.", "Hello.")]).await;
    assert!(matches!(off, Err(StoreError::Invalid(_))));
    assert!(store.export_memory_for(&a, MemoryScope::Own, None, 0).await.is_err());
}
