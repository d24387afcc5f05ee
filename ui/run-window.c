/* PLACEHOLDER: replaced before issue 4 lands */
