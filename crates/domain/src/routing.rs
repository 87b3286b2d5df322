//! US bank routing numbers (ABA): nine digits whose 3-7-1 weighted sum is a multiple of 10.

const WEIGHTS: [u32; 9] = [3, 7, 1, 3, 7, 1, 3, 7, 1];

fn weighted_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum()
}

/// Whether `routing` is a well-formed ABA routing number.
pub fn aba_routing_valid(routing: &str) -> bool {
    routing.len() == 9
        && routing.bytes().all(|b| b.is_ascii_digit())
        && weighted_sum(routing).is_multiple_of(10)
}

/// The ninth digit that makes the first eight digits a valid routing number (its weight is 1, so it is
/// what the sum lacks to the next multiple of 10).
pub fn aba_check_digit(first8: &str) -> u8 {
    ((10 - weighted_sum(first8) % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routing_numbers() {
        assert!(aba_routing_valid("021000021"));
        assert!(aba_routing_valid("084106768"));
        assert!(!aba_routing_valid("021000022"));
        assert!(!aba_routing_valid("02100002"));
        assert!(!aba_routing_valid("02100002a"));
        assert_eq!(aba_check_digit("02100002"), 1);
    }
}
