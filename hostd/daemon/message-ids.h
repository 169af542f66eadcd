/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The MESSAGE_ID= of each kind of event cchostd journals (one 128-bit id per kind, never reused;
 * "journalctl MESSAGE_ID=..." finds every entry of a kind). Fields: CCHOST_CHECK= (a check id),
 * CCHOST_DEVICE= (a disk), CCHOST_JOB= (a job path).
 */
#define MESSAGE_ID_CHECK_FAILED "e3ca8fc75d324a3abfb6f2b732df4a7a"
#define MESSAGE_ID_DRIFT_FOUND "5a9ccffe1ea74b049964b3bb2bd0af6b"
#define MESSAGE_ID_KEY_ROTATED "301e83e0b61c4085a5d37c7cae6cce67"
#define MESSAGE_ID_PROVISION_STAGE "a5a5953c0c1e4947912b9fac067b388e"
#define MESSAGE_ID_JOB_FINISHED "d3aadf83601f49b082f4cf23acfaca67"
#define MESSAGE_ID_HEALTH_CHANGED "63e2eaf05c7b4971bc79706923b13dd2"
