/* PLACEHOLDER: replaced before issue 2 lands */
