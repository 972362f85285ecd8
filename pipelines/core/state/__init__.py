"""What each partner-period holds across runs: file versions, the archive, the review
ledger, the current facts and each partner-period's status."""
