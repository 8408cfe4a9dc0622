package passwd

// Known-answer vectors. They are literals on purpose: if the encoding or
// parsing of a format regresses, these fail even when the package still
// round-trips its own output.
var knownVectors = []struct {
	name     string
	hash     string
	password string
	scheme   string
}{
	// Openwall crypt_blowfish test vectors (wrapper.c), also used by
	// jBCrypt, bcrypt-ruby and others.
	{"bcrypt/openwall U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", SchemeBcrypt},
	{"bcrypt/openwall U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*", SchemeBcrypt},
	{"bcrypt/openwall 72 bytes", "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", SchemeBcrypt},
	{"bcrypt/jbcrypt empty", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.", "", SchemeBcrypt},
	// $2y$ (PHP / htpasswd -B spelling) and $2b$ (OpenBSD) from the
	// crypt_blowfish 8-bit tests.
	{"bcrypt/2y 8-bit", "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", "\xa3", SchemeBcrypt},
	{"bcrypt/2b 8-bit", "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "\xff\xff\xa3", SchemeBcrypt},

	// Argon2 reference implementation, src/test.c (password "password",
	// salt "somesalt").
	{"argon2id/ref p=1", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "password", SchemeArgon2id},
	{"argon2id/ref p=2", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "password", SchemeArgon2id},
	{"argon2id/ref padded", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4=", "password", SchemeArgon2id},

	// passlib's own test vectors (passlib/tests/test_handlers_pbkdf2.py).
	{"pbkdf2/passlib", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ", "password", SchemePBKDF2SHA256},
	{"pbkdf2/passlib utf-8", "$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI", "\u0399\u03c9\u03b1\u03bd\u03bd\u03b7\u03c2", SchemePBKDF2SHA256},
	// PHC style, computed independently with Python's
	// hashlib.pbkdf2_hmac("sha256", pw, b"kong-authkit-slt", 10000, 32).
	{"pbkdf2/phc hashlib", "$pbkdf2-sha256$i=10000$a29uZy1hdXRoa2l0LXNsdA$54spRKvSmA9uEYspGY9es7cQjmPUr4rPHINLD1sdOp8", "correct horse battery staple", SchemePBKDF2SHA256},
}
