CREATE TABLE tmp AS SELECT * FROM setting;
ALTER TABLE tmp ADD COLUMN note TEXT DEFAULT 'x';
CREATE INDEX tmp_value ON tmp(value);
INSERT INTO tmp(key, value) VALUES ('k', 1.5e3) ON CONFLICT DO NOTHING;
SELECT typeof(value), quote(value) FROM tmp ORDER BY key;
DROP TABLE tmp;
