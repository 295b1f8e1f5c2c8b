package zedsynth

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MBS items the billing database uses for a consultation, by appointment length.
var mbsItems = []struct {
	item, text string
	fee        float64
	maxSecs    int
}{
	{"23", "Level B consultation", 42.85, 1200},
	{"36", "Level C consultation", 82.90, 2400},
	{"44", "Level D consultation", 122.15, 1 << 30},
}

// GenerateBilling fills a billing database created by ApplyBilling from the completed
// appointments of a generated main database: one invoice per completed appointment, bulk
// billed (PAYER 1) or paid privately (PAYER 2), with its MBS item. Deterministic.
func GenerateBilling(ctx context.Context, main, billing *sql.DB, engine string) error {
	if err := checkEngine(engine); err != nil {
		return err
	}
	rows, err := main.QueryContext(ctx, `SELECT APPT_ID, PATIENT_ID, DOCTOR_ID, APPT_DATE, START_SECS, DURATION_SECS FROM APPOINTMENT
		WHERE DELETED = 0 AND STATUS = ? AND PATIENT_ID IS NOT NULL ORDER BY APPT_ID`, ApptCompleted)
	if err != nil {
		return fmt.Errorf("zedsynth: read appointments: %w", err)
	}
	type appt struct {
		id, patient, doctor, secs, length int
		day                               time.Time
	}
	var appts []appt
	for rows.Next() {
		var a appt
		var day any
		if err := rows.Scan(&a.id, &a.patient, &a.doctor, &day, &a.secs, &a.length); err != nil {
			rows.Close()
			return err
		}
		switch v := day.(type) {
		case time.Time:
			a.day = dateOnly(v)
		case string:
			a.day, _ = time.Parse(sqliteTime, v)
		case []byte:
			a.day, _ = time.Parse(sqliteTime, string(v))
		}
		appts = append(appts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tx, err := billing.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	w := &writer{ctx: ctx, tx: tx, engine: engine, stmts: map[string]*sql.Stmt{}}
	for i, a := range appts {
		it := mbsItems[len(mbsItems)-1]
		for _, m := range mbsItems {
			if a.length <= m.maxSecs {
				it = m
				break
			}
		}
		payer, paid := 1, it.fee
		if a.id%3 == 0 {
			payer, paid = 2, it.fee+35
		}
		at := at(a.day, a.secs+a.length)
		w.insert("INVOICE", rec{"INVOICE_ID": i + 1, "PATIENT_ID": a.patient, "DOCTOR_ID": a.doctor, "APPT_ID": a.id,
			"INVOICE_DATE": at, "PAYER": payer, "TOTAL": paid, "PAID": paid, "CREATED_AT": at})
		w.insert("INVOICE_ITEM", rec{"ITEM_ID": i + 1, "INVOICE_ID": i + 1, "MBS_ITEM": it.item, "DESCRIPTION": it.text,
			"FEE": paid, "CREATED_AT": at})
	}
	if w.err != nil {
		return w.err
	}
	return tx.Commit()
}
