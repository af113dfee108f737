-- A table whose e-mail column holds a duplicate, so that a unique index on it cannot be built.
CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL);
INSERT INTO accounts VALUES (1, 'ada@example.test'), (2, 'grace@example.test'), (3, 'ada@example.test');
