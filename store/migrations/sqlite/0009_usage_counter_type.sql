-- A daily usage sum beyond BIGINT used to turn the stored value into REAL (issue 10); sums
-- now saturate at the limit. Values already damaged are set to the limit, as integers.
UPDATE usage_daily SET input_octets = 9223372036854775807 WHERE typeof(input_octets) = 'real';
UPDATE usage_daily SET output_octets = 9223372036854775807 WHERE typeof(output_octets) = 'real';
UPDATE usage_daily SET session_seconds = 9223372036854775807 WHERE typeof(session_seconds) = 'real';
