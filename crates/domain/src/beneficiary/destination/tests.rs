use super::*;
use time::macros::date;

const TODAY: Date = date!(2025 - 06 - 15);

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn bank_fields() -> DestinationFields {
    DestinationFields {
        bank_name: s(" Chase "),
        destination_name: s("Ada Lovelace"),
        account_type: s("CHECKING"),
        routing_number: s("021000021"),
        account_number: s("123456789"),
        ..Default::default()
    }
}

fn card_fields() -> DestinationFields {
    DestinationFields {
        destination_pan: s("4111111111111111"),
        expiry_yyyymm: s("202812"),
        destination_first_name: s("Ada"),
        destination_last_name: s("Lovelace"),
        ..Default::default()
    }
}

fn cheque_fields() -> DestinationFields {
    DestinationFields {
        legal_name: s("Ada Lovelace"),
        address: Some(AddressFields {
            address_line1: s("1 Main St"),
            city: s("Springfield"),
            province: s("Illinois"),
            postal_code: s("62701"),
            state: s("il"),
            country: s("us"),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn parse(rail: Rail, f: &DestinationFields) -> Result<Destination, BeneficiaryError> {
    Destination::parse(rail, f, TODAY)
}

/// The wire field an invalid input is blamed on (panics, failing the test, if it was accepted).
fn invalid_field(rail: Rail, f: &DestinationFields) -> &'static str {
    match parse(rail, f) {
        Err(BeneficiaryError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

type Clear = fn(&mut DestinationFields);

fn assert_each_required(rail: Rail, valid: DestinationFields, cases: &[(&'static str, Clear)]) {
    assert_eq!(parse(rail, &valid).map(|d| d.rail()), Ok(rail));
    for (field, clear) in cases {
        let mut f = valid.clone();
        clear(&mut f);
        assert_eq!(
            parse(rail, &f),
            Err(BeneficiaryError::Missing { field }),
            "{field}"
        );
    }
}

#[test]
fn ach_and_wire_accept_a_valid_account_and_trim_it() {
    let d = parse(Rail::Ach, &bank_fields()).unwrap();
    let Destination::Ach(acct) = &d else {
        panic!("{d:?}")
    };
    assert_eq!(acct.bank_name, "Chase");
    assert_eq!(acct.account_type, BankAccountType::Checking);
    assert_eq!(acct.masked_account_number(), "****6789");
    let mut f = bank_fields();
    f.account_type = s("savings");
    let wire = parse(Rail::Wire, &f).unwrap();
    assert!(matches!(&wire, Destination::Wire(a) if a.account_type == BankAccountType::Savings));
}

#[test]
fn bank_accounts_name_each_missing_field() {
    let cases: [(&str, Clear); 5] = [
        ("bankName", |f| f.bank_name = None),
        ("destinationName", |f| f.destination_name = s("   ")),
        ("type", |f| f.account_type = None),
        ("routingNumber", |f| f.routing_number = s("")),
        ("accountNumber", |f| f.account_number = None),
    ];
    assert_each_required(Rail::Ach, bank_fields(), &cases);
    assert_each_required(Rail::Wire, bank_fields(), &cases);
}

#[test]
fn bank_account_rules() {
    let with = |edit: Clear| {
        let mut f = bank_fields();
        edit(&mut f);
        invalid_field(Rail::Ach, &f)
    };
    assert_eq!(with(|f| f.routing_number = s("021000022")), "routingNumber");
    assert_eq!(with(|f| f.routing_number = s("02100002")), "routingNumber");
    assert_eq!(with(|f| f.routing_number = s("02100002a")), "routingNumber");
    assert_eq!(with(|f| f.account_number = s("123")), "accountNumber");
    assert_eq!(
        with(|f| f.account_number = s("123456789012345678")),
        "accountNumber"
    );
    assert_eq!(with(|f| f.account_number = s("1234-5678")), "accountNumber");
    assert_eq!(with(|f| f.account_type = s("MONEYMARKET")), "type");
}

#[test]
fn swift_needs_bic_and_iban() {
    let valid = DestinationFields {
        bic: s("deutdeff"),
        iban: s("GB82 WEST 1234 5698 7654 32"),
        bank_name: s(""),
        ..Default::default()
    };
    let d = parse(Rail::Swift, &valid).unwrap();
    let Destination::Swift {
        bic,
        iban,
        bank_name,
        ..
    } = &d
    else {
        panic!("{d:?}")
    };
    assert_eq!(
        (bic.as_str(), iban.as_str()),
        ("DEUTDEFF", "GB82WEST12345698765432")
    );
    assert_eq!(bank_name, &None);
    assert_each_required(
        Rail::Swift,
        valid.clone(),
        &[("bic", |f| f.bic = None), ("iban", |f| f.iban = s(" "))],
    );
    let mut f = valid.clone();
    f.iban = s("GB82 WEST 1234 5698 7654 33");
    assert_eq!(invalid_field(Rail::Swift, &f), "iban");
    let mut f = valid;
    f.bic = s("DEUT1EFF");
    assert_eq!(invalid_field(Rail::Swift, &f), "bic");
}

#[test]
fn paypal_takes_an_email_or_a_phone() {
    let id = |v: &str| {
        let f = DestinationFields {
            paypal_id: s(v),
            ..Default::default()
        };
        parse(Rail::Paypal, &f).map(|d| match d {
            Destination::Paypal { paypal_id } => paypal_id,
            other => panic!("{other:?}"),
        })
    };
    assert_eq!(id(" ada@example.com "), Ok("ada@example.com".into()));
    assert_eq!(id("+1 (415) 555-0123"), Ok("+14155550123".into()));
    assert_eq!(id("4155550123"), Ok("4155550123".into()));
    for bad in [
        "ada@",
        "@example.com",
        "ada@example",
        "ada @example.com",
        "a@b@c.com",
    ] {
        assert!(id(bad).is_err(), "{bad}");
    }
    for bad in ["+1234", "+1234567890123456", "not a phone", "+0123456789"] {
        assert!(id(bad).is_err(), "{bad}");
    }
    assert_eq!(id(""), Err(BeneficiaryError::Missing { field: "paypalId" }));
}

#[test]
fn push_to_card_accepts_both_expiry_forms() {
    let card = |f: &DestinationFields| match parse(Rail::PushToCard, f) {
        Ok(Destination::PushToCard(c)) => c,
        other => panic!("{other:?}"),
    };
    let c = card(&card_fields());
    assert_eq!(c.pan(), "4111111111111111");
    assert_eq!(c.masked_pan().as_str(), "4111********1111");
    assert_eq!(
        c.expiry,
        Expiry {
            year: 2028,
            month: 12
        }
    );
    let mut f = card_fields();
    f.destination_pan = s("4111 1111 1111 1111");
    f.expiry_yyyymm = None;
    f.expiry_mm = s("6");
    f.expiry_yy = s("25");
    // Valid through the end of its month, so June 2025 still pays on 15 June 2025.
    assert_eq!(
        card(&f).expiry,
        Expiry {
            year: 2025,
            month: 6
        }
    );
}

#[test]
fn push_to_card_never_debug_prints_the_pan() {
    let Ok(Destination::PushToCard(c)) = parse(Rail::PushToCard, &card_fields()) else {
        panic!("valid card refused")
    };
    let shown = format!("{c:?} {:?}", Destination::PushToCard(c.clone()));
    assert!(!shown.contains("4111111111111111"), "{shown}");
    assert!(shown.contains("4111********1111"), "{shown}");
}

#[test]
fn push_to_card_names_each_missing_field() {
    assert_each_required(
        Rail::PushToCard,
        card_fields(),
        &[
            ("destinationPAN", |f| f.destination_pan = None),
            ("expiryYYYYMM", |f| f.expiry_yyyymm = None),
            ("destinationFirstName", |f| f.destination_first_name = None),
            ("destinationLastName", |f| f.destination_last_name = s(" ")),
            ("expiryYY", |f| {
                f.expiry_yyyymm = None;
                f.expiry_mm = s("12");
            }),
            ("expiryMM", |f| {
                f.expiry_yyyymm = None;
                f.expiry_yy = s("28");
            }),
        ],
    );
}

#[test]
fn push_to_card_rules() {
    let with = |edit: Clear| {
        let mut f = card_fields();
        edit(&mut f);
        invalid_field(Rail::PushToCard, &f)
    };
    let pan = "destinationPAN";
    assert_eq!(with(|f| f.destination_pan = s("4111111111111112")), pan);
    assert_eq!(with(|f| f.destination_pan = s("41111111111")), pan);
    assert_eq!(with(|f| f.destination_pan = s("41111111111111111111")), pan);
    assert_eq!(with(|f| f.destination_pan = s("4111x11111111111")), pan);
    // Expired: May 2025 is over on 15 June 2025, in either form.
    assert_eq!(with(|f| f.expiry_yyyymm = s("202505")), "expiryYYYYMM");
    assert_eq!(
        with(|f| {
            f.expiry_yyyymm = None;
            f.expiry_mm = s("05");
            f.expiry_yy = s("25");
        }),
        "expiryYY"
    );
    assert_eq!(with(|f| f.expiry_yyyymm = s("202813")), "expiryYYYYMM");
    assert_eq!(with(|f| f.expiry_yyyymm = s("2028-12")), "expiryYYYYMM");
    assert_eq!(with(|f| f.expiry_mm = s("11")), "expiryMM");
    assert_eq!(with(|f| f.expiry_yy = s("29")), "expiryYY");
    assert_eq!(with(|f| f.expiry_mm = s("13")), "expiryMM");
    assert_eq!(with(|f| f.expiry_yy = s("2028")), "expiryYY");
    // Agreeing duplicates are fine.
    let mut f = card_fields();
    f.expiry_mm = s("12");
    f.expiry_yy = s("28");
    assert!(parse(Rail::PushToCard, &f).is_ok());
}

#[test]
fn cheque_normalises_its_address() {
    let d = parse(Rail::Cheque, &cheque_fields()).unwrap();
    let Destination::Cheque {
        legal_name,
        address,
    } = &d
    else {
        panic!("{d:?}")
    };
    assert_eq!(legal_name, "Ada Lovelace");
    assert_eq!(address.state.as_deref(), Some("IL"));
    assert_eq!(address.country.as_deref(), Some("US"));
    assert_eq!(address.address_line2, None);
}

#[test]
fn cheque_names_each_missing_field() {
    assert_each_required(
        Rail::Cheque,
        cheque_fields(),
        &[
            ("legalName", |f| f.legal_name = None),
            ("address", |f| f.address = None),
            ("address.addressLine1", |f| {
                if let Some(a) = &mut f.address {
                    a.address_line1 = None;
                }
            }),
            ("address.city", |f| {
                if let Some(a) = &mut f.address {
                    a.city = s("");
                }
            }),
            ("address.province", |f| {
                if let Some(a) = &mut f.address {
                    a.province = None;
                }
            }),
            ("address.postalCode", |f| {
                if let Some(a) = &mut f.address {
                    a.postal_code = s(" ");
                }
            }),
        ],
    );
}

#[test]
fn cheque_state_and_country_are_two_letters() {
    let with = |state: &str, country: &str| {
        let mut f = cheque_fields();
        if let Some(a) = &mut f.address {
            a.state = s(state);
            a.country = s(country);
        }
        parse(Rail::Cheque, &f).map(|_| ()).map_err(|e| e.field())
    };
    assert_eq!(with("", ""), Ok(()));
    assert_eq!(with("ILL", "US"), Err("address.state"));
    assert_eq!(with("I1", "US"), Err("address.state"));
    assert_eq!(with("IL", "USA"), Err("address.country"));
    assert_eq!(with("IL", "U"), Err("address.country"));
}

#[test]
fn errors_read_well_and_survive_a_json_round_trip() {
    let err = parse(Rail::Ach, &DestinationFields::default()).unwrap_err();
    assert_eq!(err.to_string(), "bankName is required");
    let mut f = bank_fields();
    f.routing_number = s("021000022");
    let err = parse(Rail::Ach, &f).unwrap_err();
    assert_eq!(
        err.to_string(),
        "routingNumber is invalid: fails the ABA check digit (mistyped?)"
    );
    let all = [
        parse(Rail::Ach, &bank_fields()),
        parse(Rail::PushToCard, &card_fields()),
        parse(Rail::Cheque, &cheque_fields()),
    ];
    for d in all {
        let d = d.unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Destination>(&json).unwrap(), d);
    }
    let swift = r#"{"Swift":{"bic":"DEUTDEFF","iban":"DE89370400440532013001","destination_name":null,"bank_name":null}}"#;
    assert!(serde_json::from_str::<Destination>(swift).is_err());
    let swift = swift.replace("3001", "3000");
    let d: Destination = serde_json::from_str(&swift).unwrap();
    assert_eq!(d.rail(), Rail::Swift);
}
