//! Glossaries: entries kept in order and checked on the way in, owner scoping (a user's own and
//! their teams' glossaries, nobody else's, administrators included), one default per owner and
//! language pair, deleting a user or a team deletes its glossaries, and a job's glossary and
//! style options (set by its owner only, naming a glossary they can read).

use tradia_core::Term;
use tradia_store::{
    Caller, GlossaryId, GlossaryUpdate, NewGlossary, NewUser, Owner, Role, StoreError,
};

use super::cases::S;

async fn caller(store: &S, login: &str, role: Role) -> Caller {
    store.create_user(NewUser::new(login, role)).await.expect("create user").caller()
}

fn new_glossary(owner: Owner, name: &str, entries: Vec<Term>) -> NewGlossary {
    NewGlossary {
        owner,
        name: name.into(),
        source_lang: "fr".parse().unwrap(),
        target_lang: "en".parse().unwrap(),
        is_default: false,
        entries,
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, id: GlossaryId) {
    match result {
        Err(StoreError::GlossaryNotFound(missing)) => assert_eq!(missing, id),
        other => panic!("expected GlossaryNotFound({id}), got {other:?}"),
    }
}

pub async fn entries_round_trip_in_order(store: S) {
    let alice = caller(&store, "alice", Role::User).await;
    let mut entries = vec![Term::new("cours", "course"), Term::new("Scenari", "Scenari")];
    entries[1].do_not_translate = true;
    entries[1].case_sensitive = true;
    entries.push(Term { note: Some("in a school".into()), ..Term::new("devoir", "assignment") });
    let created = store
        .create_glossary_for(
            &alice,
            new_glossary(Owner::User(alice.user), "Cours", entries.clone()),
        )
        .await
        .expect("create");
    assert_eq!(created.owner, Owner::User(alice.user));
    assert_eq!(created.entry_count, 3);
    assert_eq!(created.source_lang.as_str(), "fr");
    let (got, read) = store.glossary_entries_for(&alice, created.id).await.expect("entries");
    assert_eq!(got, created);
    assert_eq!(read, entries);

    // Replacing the entries replaces them all; the name changes alone otherwise.
    let update = GlossaryUpdate {
        name: Some("Cours 2".into()),
        entries: Some(vec![Term::new("leçon", "lesson")]),
        ..GlossaryUpdate::default()
    };
    let updated = store.update_glossary_for(&alice, created.id, update).await.expect("update");
    assert_eq!((updated.name.as_str(), updated.entry_count), ("Cours 2", 1));
    assert!(updated.updated_at >= created.updated_at);
    let (_, read) = store.glossary_entries_for(&alice, created.id).await.expect("entries");
    assert_eq!(read, vec![Term::new("leçon", "lesson")]);

    store.delete_glossary_for(&alice, created.id).await.expect("delete");
    assert_not_found(store.get_glossary_for(&alice, created.id).await, created.id);
    assert!(store.list_glossaries_for(&alice).await.unwrap().is_empty());
}

pub async fn bad_entries_are_refused_naming_the_problem(store: S) {
    let alice = caller(&store, "alice", Role::User).await;
    let owner = Owner::User(alice.user);
    let invalid = |result: Result<_, StoreError>| match result {
        Err(StoreError::Invalid(message)) => message,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let message = invalid(
        store
            .create_glossary_for(
                &alice,
                new_glossary(owner, "g", vec![Term::new("a", "b"), Term::new("A", "c")]),
            )
            .await,
    );
    assert!(message.contains("entry 2") && message.contains("twice"), "{message}");
    let message = invalid(
        store
            .create_glossary_for(&alice, new_glossary(owner, "g", vec![Term::new(" ", "b")]))
            .await,
    );
    assert!(message.contains("entry 1") && message.contains("source"), "{message}");
    let long = "x".repeat(501);
    let message = invalid(
        store
            .create_glossary_for(&alice, new_glossary(owner, "g", vec![Term::new("a", &long)]))
            .await,
    );
    assert!(message.contains("500"), "{message}");
    let mut same = new_glossary(owner, "g", vec![]);
    same.target_lang = "fr-CA".parse().unwrap();
    let message = invalid(store.create_glossary_for(&alice, same).await);
    assert!(message.contains("two languages"), "{message}");
    invalid(store.create_glossary_for(&alice, new_glossary(owner, "", vec![])).await);
    // Case-sensitive entries may differ by case only; a do-not-translate target is its source.
    let mut upper = Term::new("Word", "ignored");
    upper.case_sensitive = true;
    upper.do_not_translate = true;
    let mut lower = Term::new("word", "mot");
    lower.case_sensitive = true;
    let created = store
        .create_glossary_for(&alice, new_glossary(owner, "g", vec![upper, lower]))
        .await
        .expect("case-sensitive twins");
    let (_, read) = store.glossary_entries_for(&alice, created.id).await.unwrap();
    assert_eq!(read[0].target, "Word");
    assert!(store.list_glossaries_for(&alice).await.unwrap().len() == 1, "nothing else was kept");
}

pub async fn only_owners_and_team_members_reach_a_glossary(store: S) {
    let admin = caller(&store, "root", Role::Admin).await;
    let alice = caller(&store, "alice", Role::User).await;
    let bob = caller(&store, "bob", Role::User).await;
    let carol = caller(&store, "carol", Role::User).await;
    let team = store.create_team("Lettres").await.unwrap();
    store.add_team_member(team.id, alice.user).await.unwrap();
    store.add_team_member(team.id, carol.user).await.unwrap();

    let own = store
        .create_glossary_for(
            &alice,
            new_glossary(Owner::User(alice.user), "mine", vec![Term::new("a", "b")]),
        )
        .await
        .unwrap();
    let shared = store
        .create_glossary_for(
            &alice,
            new_glossary(Owner::Team(team.id), "ours", vec![Term::new("c", "d")]),
        )
        .await
        .unwrap();
    // Bob may create neither for Alice nor for a team he is not in.
    assert!(matches!(
        store.create_glossary_for(&bob, new_glossary(Owner::User(alice.user), "x", vec![])).await,
        Err(StoreError::UserNotFound(_))
    ));
    assert!(matches!(
        store.create_glossary_for(&bob, new_glossary(Owner::Team(team.id), "x", vec![])).await,
        Err(StoreError::TeamNotFound(_))
    ));

    // Bob and the administrator reach neither; Carol (a member) reaches the team's only.
    for other in [&bob, &admin] {
        for g in [&own, &shared] {
            assert_not_found(store.get_glossary_for(other, g.id).await, g.id);
            assert_not_found(store.glossary_entries_for(other, g.id).await, g.id);
            assert_not_found(
                store.update_glossary_for(other, g.id, GlossaryUpdate::default()).await,
                g.id,
            );
            assert_not_found(store.delete_glossary_for(other, g.id).await, g.id);
        }
        assert!(store.list_glossaries_for(other).await.unwrap().is_empty());
    }
    assert_not_found(store.get_glossary_for(&carol, own.id).await, own.id);
    let listed: Vec<_> = store.list_glossaries_for(&carol).await.unwrap();
    assert_eq!(listed.iter().map(|g| g.id).collect::<Vec<_>>(), vec![shared.id]);
    // Alice sees her own first, then her team's.
    let listed: Vec<_> = store.list_glossaries_for(&alice).await.unwrap();
    assert_eq!(listed.iter().map(|g| g.id).collect::<Vec<_>>(), vec![own.id, shared.id]);
    // Untouched by the refused attempts.
    let (_, entries) = store.glossary_entries_for(&alice, own.id).await.unwrap();
    assert_eq!(entries, vec![Term::new("a", "b")]);

    // Leaving the team loses access.
    store.remove_team_member(team.id, carol.user).await.unwrap();
    assert_not_found(store.get_glossary_for(&carol, shared.id).await, shared.id);
}

pub async fn one_default_per_owner_and_pair(store: S) {
    let alice = caller(&store, "alice", Role::User).await;
    let team = store.create_team("T").await.unwrap();
    store.add_team_member(team.id, alice.user).await.unwrap();
    let (fr_lang, en_lang, de_lang) =
        ("fr".parse().unwrap(), "en-GB".parse().unwrap(), "de".parse().unwrap());
    assert!(store.default_glossary_for(&alice, &fr_lang, &en_lang).await.unwrap().is_none());

    let mut team_default = new_glossary(Owner::Team(team.id), "team", vec![]);
    team_default.is_default = true;
    let team_default = store.create_glossary_for(&alice, team_default).await.unwrap();
    let found = store.default_glossary_for(&alice, &fr_lang, &en_lang).await.unwrap();
    assert_eq!(found.map(|g| g.id), Some(team_default.id), "a team's default, same languages");

    let mut first = new_glossary(Owner::User(alice.user), "first", vec![]);
    first.is_default = true;
    let fr = store.create_glossary_for(&alice, first).await.unwrap();
    let found = store.default_glossary_for(&alice, &fr_lang, &en_lang).await.unwrap();
    assert_eq!(found.map(|g| g.id), Some(fr.id), "the caller's own default comes first");
    assert!(store.default_glossary_for(&alice, &fr_lang, &de_lang).await.unwrap().is_none());

    let mut second = new_glossary(Owner::User(alice.user), "second", vec![]);
    second.is_default = true;
    let second = store.create_glossary_for(&alice, second).await.unwrap();
    assert!(!store.get_glossary_for(&alice, fr.id).await.unwrap().is_default);
    assert!(store.get_glossary_for(&alice, team_default.id).await.unwrap().is_default);
    let found = store.default_glossary_for(&alice, &fr_lang, &en_lang).await.unwrap();
    assert_eq!(found.map(|g| g.id), Some(second.id));

    let update = GlossaryUpdate { is_default: Some(true), ..GlossaryUpdate::default() };
    store.update_glossary_for(&alice, fr.id, update).await.unwrap();
    assert!(!store.get_glossary_for(&alice, second.id).await.unwrap().is_default);
}

pub async fn deleting_the_owner_deletes_the_glossaries(store: S) {
    let alice = caller(&store, "alice", Role::User).await;
    let bob = caller(&store, "bob", Role::User).await;
    let team = store.create_team("T").await.unwrap();
    store.add_team_member(team.id, bob.user).await.unwrap();
    let own = store
        .create_glossary_for(
            &alice,
            new_glossary(Owner::User(alice.user), "a", vec![Term::new("a", "b")]),
        )
        .await
        .unwrap();
    let teams = store
        .create_glossary_for(
            &bob,
            new_glossary(Owner::Team(team.id), "t", vec![Term::new("a", "b")]),
        )
        .await
        .unwrap();
    store.delete_user(alice.user).await.expect("delete alice");
    assert_not_found(store.get_glossary_for(&alice, own.id).await, own.id);
    store.delete_team(team.id).await.expect("delete team");
    assert_not_found(store.get_glossary_for(&bob, teams.id).await, teams.id);
}

pub async fn job_guidance_is_set_by_the_owner_with_a_glossary_they_can_read(store: S) {
    use tradia_core::Formality;
    use tradia_store::JobGuidance;
    let alice = caller(&store, "alice", Role::User).await;
    let bob = caller(&store, "bob", Role::User).await;
    let job = store.create_job_for(&alice, super::cases::new_job(1)).await.expect("job");
    assert_eq!(store.job_guidance(job.id).await.expect("read"), JobGuidance::default());

    let mine = store
        .create_glossary_for(&alice, new_glossary(Owner::User(alice.user), "A", vec![]))
        .await
        .expect("create");
    let theirs = store
        .create_glossary_for(&bob, new_glossary(Owner::User(bob.user), "B", vec![]))
        .await
        .expect("create");
    let set = JobGuidance {
        glossary: Some(mine.id),
        formality: Formality::More,
        instructions: Some("Keep it short.".into()),
        brief: Some("A course on weather — physics".into()),
    };
    store.set_job_guidance_for(&alice, job.id, set.clone()).await.expect("set");
    assert_eq!(store.job_guidance(job.id).await.expect("read"), set);

    // Another user's glossary is not found; another user's job is not found either.
    let other = JobGuidance { glossary: Some(theirs.id), ..JobGuidance::default() };
    assert_not_found(store.set_job_guidance_for(&alice, job.id, other).await, theirs.id);
    match store.set_job_guidance_for(&bob, job.id, JobGuidance::default()).await {
        Err(StoreError::NotFound(id)) => assert_eq!(id, job.id),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let long = JobGuidance {
        instructions: Some("x".repeat(tradia_store::MAX_INSTRUCTIONS_CHARS + 1)),
        ..JobGuidance::default()
    };
    assert!(matches!(
        store.set_job_guidance_for(&alice, job.id, long).await,
        Err(StoreError::Invalid(_))
    ));
    let long_brief = JobGuidance {
        brief: Some("x".repeat(tradia_store::MAX_BRIEF_CHARS + 1)),
        ..JobGuidance::default()
    };
    assert!(matches!(
        store.set_job_guidance_for(&alice, job.id, long_brief).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.job_guidance(job.id).await.expect("read"), set, "unchanged by refusals");

    // The options go with the job.
    store.delete_job_for(&alice, job.id).await.expect("delete");
    assert_eq!(store.job_guidance(job.id).await.expect("read"), JobGuidance::default());
}
