-- Violates email-unique: unique, but only case-sensitively; and a configured column that is missing.
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE members (id int PRIMARY KEY, contact text);
