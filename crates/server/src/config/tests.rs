use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<Vec<_>>()
        .into_iter()
}

#[test]
fn layers_file_then_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bankgate.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:9000\"\nsession_idle_minutes = 5\ndemo = true\n",
    )
    .unwrap();
    let config = Config::load(
        Some(&file),
        env(&[
            ("BANKGATE_SESSION_IDLE_MINUTES", "7"),
            ("DATABASE_URL", "postgres://x/y"),
            ("BANKGATE_SANDBOXES", "a, b"),
        ]),
    )
    .unwrap();
    assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(config.session_idle_minutes, 7);
    assert_eq!(config.database_url, "postgres://x/y");
    assert_eq!(config.sandboxes, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(
        config.effective_admin_token().as_deref(),
        Some(DEMO_ADMIN_TOKEN)
    );
}

#[test]
fn refuses_unknown_settings_and_ignores_test_variables() {
    assert!(Config::load(None, env(&[("BANKGATE_LISTNE", "x")])).is_err());
    assert!(Config::load(None, env(&[("BANKGATE_TEST_POSTGRES_URL", "postgres://")])).is_ok());
}

#[test]
fn back_offices_over_http_from_file_environment_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bankgate.toml");
    std::fs::write(
        &file,
        "[back_offices]\nsandbox-a = \"http://127.0.0.1:9001\"\n",
    )
    .unwrap();
    let from_file = Config::load(Some(&file), env(&[])).unwrap();
    assert_eq!(
        from_file.back_offices,
        BTreeMap::from([("sandbox-a".into(), "http://127.0.0.1:9001".into())])
    );
    assert_eq!(
        from_file.in_process_sandboxes().collect::<Vec<_>>(),
        vec!["sandbox-b"]
    );

    let from_env = Config::load(
        None,
        env(&[(
            "BANKGATE_BACK_OFFICES",
            "sandbox-a=http://10.0.0.1:9001, sandbox-b = http://bo.example/b/",
        )]),
    )
    .unwrap();
    assert_eq!(
        from_env.back_offices,
        BTreeMap::from([
            ("sandbox-a".into(), "http://10.0.0.1:9001".into()),
            ("sandbox-b".into(), "http://bo.example/b/".into()),
        ])
    );
    assert_eq!(from_env.in_process_sandboxes().count(), 0);

    let mut flagged = Config::default();
    flagged
        .add_back_office("sandbox-b=http://127.0.0.1:9002")
        .unwrap();
    assert_eq!(
        flagged.in_process_sandboxes().collect::<Vec<_>>(),
        vec!["sandbox-a"]
    );
    assert!(flagged.add_back_office("sandbox-b").is_err());
    assert!(flagged.add_back_office("sandbox-b=127.0.0.1:9002").is_err());
    assert!(flagged.add_back_office("bad id=http://h:1").is_err());
}

#[test]
fn invalid_back_office_urls_are_refused_at_load() {
    for bad in [
        "sandbox-a=ftp://h",
        "sandbox-a=https://h",
        "sandbox-a=not a url",
        "sandbox-a",
        "../x=http://h:1",
    ] {
        let error = Config::load(None, env(&[("BANKGATE_BACK_OFFICES", bad)]))
            .expect_err(bad)
            .to_string();
        assert!(
            error.contains("back_offices") || error.contains("BANKGATE_BACK_OFFICES"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn sandbox_files_sit_beside_the_database() {
    let config = Config {
        database_url: "sqlite:///var/lib/bg/main.db".into(),
        ..Config::default()
    };
    assert_eq!(
        config.sandbox_database_url("sandbox-a"),
        "sqlite:///var/lib/bg/bankgate-sandbox-a.db"
    );
    assert_eq!(
        Config::default().sandbox_database_url("x"),
        "sqlite://bankgate-x.db"
    );
}
