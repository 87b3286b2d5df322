//! Card controls: restrictions as authorization sees them, reissue, PINs, card numbers, activation and
//! the on/off switch.

use crate::common::{purchase_at, usd, Harness, START};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use bankgate_backoffice::{AuthorizationOutcome, BackOfficeError, BoCard, CardsApi};
use bankgate_db::testing::test_engines;
use bankgate_domain::card::{luhn_valid, Pin, ReissueReason};
use bankgate_domain::ids::BoRef;
use bankgate_domain::mask::MaskedPan;
use bankgate_domain::restrictions::{DeclineReason, FlagMap, Patch, RestrictionUpdate};
use time::macros::datetime;
use time::{Duration, PrimitiveDateTime};

fn flags(pairs: &[(&str, bool)]) -> FlagMap {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

async fn outcome(
    h: &Harness,
    card: &BoCard,
    mcc: &str,
    at: PrimitiveDateTime,
) -> Result<(), DeclineReason> {
    let request = bankgate_backoffice::AuthorizationRequest {
        mcc: mcc.into(),
        ..purchase_at(card, usd(1), at)
    };
    match h.authorize(&request).await.unwrap() {
        AuthorizationOutcome::Approved { .. } => Ok(()),
        AuthorizationOutcome::Declined { reason } => Err(reason),
    }
}

#[tokio::test]
async fn restrictions_are_stored_and_enforced() {
    // 2024-01-03 is a Wednesday ("3").
    let wednesday_noon = datetime!(2024-01-03 12:00);
    let wednesday_night = datetime!(2024-01-03 22:00);
    let thursday_noon = datetime!(2024-01-04 12:00);
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (_, card) = h.funded_card(10_000).await;

        let days = RestrictionUpdate {
            day_of_week: Patch::Set(flags(&[("3", false)])),
            ..Default::default()
        };
        let updated = h
            .sandbox
            .update_restrictions(&card.id_bo, &days)
            .await
            .unwrap();
        assert_eq!(
            updated.restrictions.day_of_week,
            Some(flags(&[("3", false)]))
        );
        assert_eq!(h.sandbox.get_card(&card.id_bo).await.unwrap(), updated);
        assert_eq!(
            outcome(&h, &card, "5411", wednesday_noon).await,
            Err(DeclineReason::DayOfWeekRestricted)
        );
        assert_eq!(outcome(&h, &card, "5411", thursday_noon).await, Ok(()));

        let hours = RestrictionUpdate {
            day_of_week: Patch::Clear,
            times_of_day: Patch::Set(flags(&[("am9pm5", true)])),
            ..Default::default()
        };
        h.sandbox
            .update_restrictions(&card.id_bo, &hours)
            .await
            .unwrap();
        assert_eq!(outcome(&h, &card, "5411", wednesday_noon).await, Ok(()));
        assert_eq!(
            outcome(&h, &card, "5411", wednesday_night).await,
            Err(DeclineReason::TimeOfDayRestricted)
        );

        let allowed = RestrictionUpdate {
            allowed_mccs: Patch::Set(flags(&[("5411", true)])),
            ..Default::default()
        };
        let both = h
            .sandbox
            .update_restrictions(&card.id_bo, &allowed)
            .await
            .unwrap();
        assert_eq!(
            both.restrictions.times_of_day,
            Some(flags(&[("am9pm5", true)])),
            "absent kinds stay"
        );
        assert_eq!(outcome(&h, &card, "5411", thursday_noon).await, Ok(()));
        assert_eq!(
            outcome(&h, &card, "5812", thursday_noon).await,
            Err(DeclineReason::MccNotAllowed)
        );

        let restricted = RestrictionUpdate {
            restricted_mccs: Patch::Set(flags(&[("5812", true)])),
            ..Default::default()
        };
        let refused = h
            .sandbox
            .update_restrictions(&card.id_bo, &restricted)
            .await;
        assert!(
            matches!(
                refused,
                Err(BackOfficeError::Rejected {
                    code: "RESTRICTION_CONFLICT",
                    ..
                })
            ),
            "{refused:?}"
        );
        let switch = RestrictionUpdate {
            allowed_mccs: Patch::Clear,
            ..restricted
        };
        let switched = h
            .sandbox
            .update_restrictions(&card.id_bo, &switch)
            .await
            .unwrap();
        assert_eq!(
            switched.restrictions.restricted_mccs,
            Some(flags(&[("5812", false)]))
        );
        assert_eq!(switched.restrictions.allowed_mccs, None);
        assert_eq!(
            outcome(&h, &card, "5812", thursday_noon).await,
            Err(DeclineReason::MccRestricted)
        );
        assert_eq!(outcome(&h, &card, "5411", thursday_noon).await, Ok(()));

        let bad = RestrictionUpdate {
            day_of_week: Patch::Set(flags(&[("9", true)])),
            ..Default::default()
        };
        let refused = h.sandbox.update_restrictions(&card.id_bo, &bad).await;
        assert!(
            matches!(
                refused,
                Err(BackOfficeError::Rejected {
                    code: "RESTRICTION_INVALID",
                    ..
                })
            ),
            "{refused:?}"
        );
        assert_eq!(
            h.sandbox.get_card(&card.id_bo).await.unwrap().restrictions,
            switched.restrictions
        );
        let missing = h
            .sandbox
            .update_restrictions(&BoRef("cd_none".into()), &RestrictionUpdate::default())
            .await;
        assert_eq!(missing, Err(BackOfficeError::NotFound("card")));
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn reissue_lost_keeps_the_number_stolen_replaces_it() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (_, card) = h.funded_card(0).await;
        let original_pan = h.card_column(&card, "pan").await.unwrap();
        assert!(card.activated);

        h.clock.advance(Duration::days(400));
        let lost = h
            .sandbox
            .reissue_card(&card.id_bo, ReissueReason::Lost)
            .await
            .unwrap();
        assert_eq!(lost.id_bo, card.id_bo);
        assert_eq!(lost.number_masked, card.number_masked);
        assert_eq!(h.card_column(&card, "pan").await.unwrap(), original_pan);
        assert_eq!(
            (lost.expiry.year, lost.expiry.month),
            (2028, 2),
            "three years from 2025-02-06"
        );
        assert!(!lost.activated && lost.activated_at.is_none());

        h.sandbox.activate_card(&card.id_bo).await.unwrap();
        let stolen = h
            .sandbox
            .reissue_card(&card.id_bo, ReissueReason::Stolen)
            .await
            .unwrap();
        let new_pan = h.card_column(&card, "pan").await.unwrap();
        assert_ne!(new_pan, original_pan);
        assert!(luhn_valid(&new_pan));
        assert_eq!(stolen.number_masked, MaskedPan::mask(&new_pan));
        assert_eq!(stolen.expiry, lost.expiry);
        assert!(!stolen.activated);
        assert_eq!(
            h.sandbox
                .reissue_card(&BoRef("cd_none".into()), ReissueReason::Lost)
                .await,
            Err(BackOfficeError::NotFound("card"))
        );
    }
}

#[tokio::test]
async fn pins_are_only_kept_as_hashes() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (_, card) = h.funded_card(0).await;
        assert_eq!(h.card_column(&card, "pin_hash").await, None);
        let pin = Pin::parse_digits("8642").unwrap();
        h.sandbox.set_pin(&card.id_bo, &pin).await.unwrap();

        let stored = h.card_column(&card, "pin_hash").await.unwrap();
        assert!(
            stored.starts_with("$argon2id$") && !stored.contains("8642"),
            "{stored}"
        );
        let hash = PasswordHash::new(&stored).unwrap();
        assert!(Argon2::default().verify_password(b"8642", &hash).is_ok());

        // Random ids may spell anything, so look at field names and whole
        // values rather than searching the serialized text.
        let seen = serde_json::to_value(h.sandbox.get_card(&card.id_bo).await.unwrap()).unwrap();
        let fields = seen.as_object().unwrap();
        assert!(
            fields.keys().all(|key| !key.to_lowercase().contains("pin")),
            "{seen}"
        );
        assert!(
            fields.values().all(|value| value
                .as_str()
                .is_none_or(|text| text != "8642" && !text.starts_with("$argon2"))),
            "{seen}"
        );
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        assert_eq!(
            h.sandbox.set_pin(&BoRef("cd_none".into()), &pin).await,
            Err(BackOfficeError::NotFound("card"))
        );
    }
}

#[tokio::test]
async fn card_numbers_are_luhn_valid_and_only_leave_masked() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, first) = h.funded_card(0).await;
        let mut cards = vec![first];
        for _ in 0..15 {
            cards.push(h.card(&account, false).await);
        }
        for card in &cards {
            let pan = h.card_column(card, "pan").await.unwrap();
            assert_eq!(pan.len(), 16);
            assert!(pan.starts_with("400000") && luhn_valid(&pan), "{pan}");
            assert_eq!(card.number_masked, MaskedPan::mask(&pan));
            assert_eq!(&card.number_masked.as_str()[4..12], "********");
            assert!(!serde_json::to_string(card).unwrap().contains(&pan));
        }
        let listed = h.sandbox.list_cards(&account.customer_id_bo).await.unwrap();
        assert_eq!(listed, cards, "listed in issue order");
    }
}

#[tokio::test]
async fn activation_is_idempotent_and_the_switch_flips() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let (account, _) = h.funded_card(500).await;
        let card = h.card(&account, false).await;
        assert_eq!(card.activated_at, None);
        h.clock.advance(Duration::minutes(1));
        let activated = h.sandbox.activate_card(&card.id_bo).await.unwrap();
        assert_eq!(activated.activated_at, Some(START + Duration::minutes(1)));
        h.clock.advance(Duration::minutes(1));
        assert_eq!(
            h.sandbox.activate_card(&card.id_bo).await.unwrap(),
            activated,
            "a no-op the second time"
        );

        let off = h
            .sandbox
            .set_card_enabled(&card.id_bo, false)
            .await
            .unwrap();
        assert!(!off.enabled);
        assert_eq!(
            outcome(&h, &card, "5411", datetime!(2024-01-03 12:00)).await,
            Err(DeclineReason::CardOff)
        );
        let on = h.sandbox.set_card_enabled(&card.id_bo, true).await.unwrap();
        assert!(on.enabled);
        assert_eq!(
            outcome(&h, &card, "5411", datetime!(2024-01-03 12:00)).await,
            Ok(())
        );
    }
}
