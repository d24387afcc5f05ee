/* PLACEHOLDER: replaced before issue 3 lands */
