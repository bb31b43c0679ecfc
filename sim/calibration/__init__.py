"""Calibration from real measurements (`flashsim calibrate`): fio's JSON results read into
measurements (`fio_results`), an `[[array]]` fitted to them (`fit`), and each measured job
replayed on the fitted array, measured and simulated figures side by side (`compare`)."""
