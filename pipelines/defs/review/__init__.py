"""The coordinator's review job, the reviews table and the sensor that republishes."""
