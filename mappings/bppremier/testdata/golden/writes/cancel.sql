-- storedProcedure, answer column (none)
-- @aptid Int = '563'
-- @loginid Int = '0'
BP_CancelAppointment
